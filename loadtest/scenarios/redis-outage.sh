#!/usr/bin/env bash
# Scenario 3, redis-outage: the local stack under an open loop while Redis is frozen (SIGSTOP: commands time
# out), thawed, killed (SIGKILL) and started again. Passes only with 0 failed requests and every token checked;
# then waits, bounded by one window, for the replicas to converge on one token again.
#
# Usage: loadtest/scenarios/redis-outage.sh [RATE=2000]
# Bounded: about 60 s of load + up to 150 s for convergence. Loopback only; everything it starts is stopped on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rate="${1:-2000}"
require_binaries
start_local_stack 4 120 60
redis_pid=$(stack_pid redis)

say "open loop through nginx at $rate req/s for 50 s; max error ratio 0"
load "$WORK/outage.json" "$LB_URL" --rate "$rate" --connections 128 --duration 50 --warmup 2 \
    "${DRIVER_CHECKS[@]}" --max-error-ratio 0 --quiet > "$WORK/outage.txt" &
driver=$!
SCENARIO_PIDS+=("$driver")
sleep 10
say "t=8s  Redis frozen (SIGSTOP)";        kill -STOP "$redis_pid"
sleep 8
say "t=16s Redis thawed (SIGCONT)";        kill -CONT "$redis_pid"
sleep 6
say "t=22s Redis killed (SIGKILL)";        kill -KILL "$redis_pid"
sleep 10
say "t=32s Redis started again"
nohup redis-server "$STACK_DIR/redis/redis.conf" > /dev/null 2>&1 < /dev/null &
redis_pid=$!
echo "$redis_pid $(awk '{print $22}' "/proc/$redis_pid/stat")" > "$STACK_DIR/pids/redis.pid"   # so down stops it
status=0
wait "$driver" || status=$?
cat "$WORK/outage.txt"
for port in "${REPLICA_PORTS[@]}"; do echo "  replica :$port /readyz $(curl -s --max-time 1 "http://127.0.0.1:$port/readyz")"; done
[ "$status" -eq 0 ] || fail "requests failed or a check was violated while Redis was down (driver exit $status)"

say "waiting (at most 150 s) for the replicas to serve one token again"
caller="Bearer $(cat "$STACK_DIR/caller-token")"
start=$SECONDS
while :; do
    tokens=$(for port in "${REPLICA_PORTS[@]}"; do
        curl -s --max-time 1 -X POST -H "Authorization: $caller" "http://127.0.0.1:$port/v1/token"; echo
    done | sort -u | grep -c . || true)
    [ "$tokens" -eq 1 ] && break
    [ $((SECONDS - start)) -ge 150 ] && fail "the replicas still serve $tokens different tokens after 150 s"
    sleep 1
done
say "PASS: 0 failed requests through the outage; one token again $((SECONDS - start)) s after the load ended"
