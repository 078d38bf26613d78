#!/usr/bin/env bash
# Scenario 4, soak: one replica in Redis-shared mode (the local stack with 1 replica, TTL 120 s so it refreshes
# through Redis every minute or so) at a fixed open-loop rate, its RSS and open file descriptors sampled every
# 10 s. Passes when there are 0 errors and no growth beyond noise: RSS in the last minute no more than 4 MiB
# (and 10 %) above the first minute after warmup, open file descriptors varying by 8 at most.
#
# Usage: loadtest/scenarios/soak.sh [SECONDS=600] [RATE=5000]
# Bounded: SECONDS + about 30 s. Loopback only; everything it starts is stopped on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration="${1:-600}"
rate="${2:-5000}"
[ "$duration" -ge 120 ] || fail "a soak needs at least 120 s"
require_binaries
start_local_stack 1 120 60
pid=$(stack_pid replica-1)

say "open loop at $rate req/s straight to the replica (:${REPLICA_PORTS[0]}, pid $pid) for $duration s"
load "$WORK/soak.json" "http://127.0.0.1:${REPLICA_PORTS[0]}" --rate "$rate" --connections 64 --duration "$duration" \
    --warmup 10 "${DRIVER_CHECKS[@]}" --server-pid "$pid" --quiet > "$WORK/soak.txt" &
driver=$!
SCENARIO_PIDS+=("$driver")
samples="$WORK/samples.tsv"
printf '%6s %9s %5s\n' "t s" "RSS MiB" fds
elapsed=0
while kill -0 "$driver" 2>/dev/null && [ "$elapsed" -le $((duration + 60)) ]; do
    sleep 10
    elapsed=$((elapsed + 10))
    kill -0 "$driver" 2>/dev/null || break   # the load is over: its connections are closing
    [ -d "/proc/$pid" ] || fail "the replica exited during the soak"
    printf '%6s %9s %5s\n' "$elapsed" "$(rss_mib "$pid")" "$(fd_count "$pid")" | tee -a "$samples"
done
status=0
wait "$driver" || status=$?
cat "$WORK/soak.txt"
[ "$status" -eq 0 ] || fail "the soak run failed (driver exit $status)"
python3 - "$samples" <<'PY'
import sys
rows = [tuple(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
rows = [r for r in rows if r[0] >= 20]                   # after warmup and the first refresh of the caches
first, last = rows[:6], rows[-6:]
mean = lambda xs: sum(xs) / len(xs)
rss0, rss1 = mean([r[1] for r in first]), mean([r[1] for r in last])
fds = [r[2] for r in rows]
print(f"RSS first minute {rss0:.1f} MiB, last minute {rss1:.1f} MiB (growth {rss1 - rss0:+.1f} MiB); "
      f"fds {min(fds):.0f}..{max(fds):.0f}")
ok = rss1 - rss0 <= 4.0 and rss1 <= rss0 * 1.10 + 0.5 and max(fds) - min(fds) <= 8
print("PASS: no growth beyond noise" if ok else "FAIL: resources grew during the soak")
sys.exit(0 if ok else 1)
PY
