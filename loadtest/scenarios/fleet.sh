#!/usr/bin/env bash
# Scenario 2, fleet: the local stack (Redis + 4 replicas + nginx in front, deploy/local/up) under a closed loop,
# then an open loop at half the capacity the closed loop found. Reports the fleet's throughput and latency through
# nginx, Redis commands per 1,000,000 requests (INFO commandstats, the cold start not counted) and the tokens the
# fleet minted. TTL 120 s / minimum 60 s so that several refresh windows pass during the run.
#
# Usage: loadtest/scenarios/fleet.sh [SECONDS_PER_PHASE=60] [REPLICAS=4]
# Bounded: about 2 × (SECONDS + 2) + 30 s. Loopback only; everything it starts is stopped on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration="${1:-60}"
replicas="${2:-4}"
require_binaries
start_local_stack "$replicas" 120 60
common=("${DRIVER_CHECKS[@]}" --warmup 2 --duration "$duration" --quiet)
minted_before=$(fleet_counter tokenmint_tokens_minted_total)
stack_redis_cli config resetstat > /dev/null

say "closed loop through nginx: 64 connections, ${duration} s"
load "$WORK/closed.json" "$LB_URL" --connections 64 "${common[@]}" > "$WORK/closed.txt" \
    || { cat "$WORK/closed.txt"; tail -n 5 "$STACK_DIR/logs/nginx-error.log"; fail "the closed-loop run failed"; }
tail -n 1 "$WORK/closed.txt"
capacity=$(json_field "$WORK/closed.json" 'int(r["requests_per_second"])')
rate=$((capacity / 2))
say "open loop through nginx: ${rate} req/s (half of the ${capacity} req/s found), ${duration} s"
load "$WORK/open.json" "$LB_URL" --connections 128 --rate "$rate" "${common[@]}" > "$WORK/open.txt" \
    || { cat "$WORK/open.txt"; tail -n 5 "$STACK_DIR/logs/nginx-error.log"; fail "the open-loop run failed"; }
tail -n 1 "$WORK/open.txt"

commands=$(redis_commands)
minted_after=$(fleet_counter tokenmint_tokens_minted_total)
echo
stack_redis_cli info commandstats | tr -d '\r' | sed -n -E '/^cmdstat_(config|info|ping|auth)[:|]/d; s/^cmdstat_/  cmdstat_/p'
python3 - "$WORK/closed.json" "$WORK/open.json" "$commands" "$minted_before" "$minted_after" "$replicas" <<'PY'
import json, sys
closed, opened = (json.load(open(p)) for p in sys.argv[1:3])
commands, before, after, replicas = (int(x) for x in sys.argv[3:7])
requests = closed["requests"] + opened["requests"]
for name, r in (("closed", closed), ("open", opened)):
    l = r["latency"]
    print(f"{name:6s} loop: {r['requests_per_second']:9.0f} req/s, p50 {l['p50_micros']/1e3:.2f} ms, p99 {l['p99_micros']/1e3:.2f} ms, "
          f"p99.9 {l['p999_micros']/1e3:.2f} ms, errors {sum(r['errors'].values())}, distinct tokens {r['distinct_tokens']}")
print(f"requests measured: {requests}")
print(f"Redis commands from the fleet: {commands}  ->  {commands * 1e6 / requests:.2f} per 1,000,000 requests")
print(f"tokens minted by the fleet of {replicas}: {after} in all, {after - before} during the measured runs")
PY
