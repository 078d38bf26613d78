#!/usr/bin/env bash
# Scenario 5, spike: one replica (no Redis). Measures its capacity (closed loop, 256 connections), then runs a
# baseline open loop at 1 % of it and, 10 s in, adds the other 99 % for 10 s in one step. Reports p99 before,
# during and after the step, and the time until the baseline's per-second p99 is back (at most twice its level
# before the step, or 1 ms above it). Passes when the baseline had 0 errors and recovered within the run.
#
# Usage: loadtest/scenarios/spike.sh
# Bounded: about 60 s. Loopback only; everything it starts is stopped on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_binaries
new_secrets
read -r port < <(free_ports 1)
start_tokenmint "$port"
pid=$STARTED_PID
url="http://127.0.0.1:$port"
common=("${DRIVER_CHECKS[@]}" --quiet)

load "$WORK/capacity.json" "$url" --connections 256 --duration 5 --warmup 2 "${common[@]}" > /dev/null \
    || fail "the capacity run failed"
capacity=$(json_field "$WORK/capacity.json" 'int(r["requests_per_second"])')
base=$((capacity / 100)); spike=$((capacity - base))
say "capacity ${capacity} req/s: baseline ${base} req/s for 35 s; +${spike} req/s from 10 s to 20 s"
load "$WORK/baseline.json" "$url" --rate "$base" --connections 16 --duration 35 --warmup 0 "${common[@]}" \
    > "$WORK/baseline.txt" &
baseline=$!
SCENARIO_PIDS+=("$baseline")
sleep 10
load "$WORK/spike.json" "$url" --rate "$spike" --connections 256 --duration 10 --warmup 0 --max-error-ratio 1 \
    "${common[@]}" > "$WORK/spike.txt" || true
status=0
wait "$baseline" || status=$?
python3 - "$WORK/baseline.json" "$WORK/spike.json" "$status" <<'PY'
import json, sys
base, spike = (json.load(open(p)) for p in sys.argv[1:3])
status = int(sys.argv[3])
t = base["timeline"]
ms = lambda us: us / 1e3
before = [s["p99_micros"] for s in t if 2 <= s["at"] <= 10]
during = [s for s in t if 11 <= s["at"] <= 21]
after = [s for s in t if s["at"] > 21]
pre = sorted(before)[len(before) // 2] if before else 0
limit = max(2 * pre, pre + 1000)
recovered = next((s["at"] for s in after if s["p99_micros"] <= limit), None)
for s in t:
    print(f"  t={s['at']:5.1f}s  baseline {s['requests_per_second']:7.0f} req/s  p99 {ms(s['p99_micros']):8.3f} ms  max {ms(s['max_micros']):8.3f} ms  errors {s['errors']}")
sl = spike["latency"]
print(f"spike run: {spike['requests_per_second']:.0f} req/s answered of {spike['requested_rate']:.0f} asked, "
      f"p99 {ms(sl['p99_micros']):.2f} ms, p99.9 {ms(sl['p999_micros']):.2f} ms, errors {sum(spike['errors'].values())}")
print(f"baseline p99: before the step {ms(pre):.3f} ms, during it {ms(max((s['p99_micros'] for s in during), default=0)):.3f} ms (worst second)")
if recovered is None:
    print("FAIL: the baseline's p99 did not come back within the run"); sys.exit(1)
print(f"recovered {recovered - 20:.0f} s after the step ended (first second with p99 <= {ms(limit):.3f} ms)")
if status != 0 or base["errors"] or base["violations"]:
    print(f"FAIL: the baseline run had errors or violations (driver exit {status})"); sys.exit(1)
print("PASS")
PY
