#!/usr/bin/env bash
# Measures tokenmint (release) against the Node.js peer (WORKERS=2) in one run, with wrk and the same caller
# population, at 64 and 256 connections, interleaved. Prints requests/s, p99 and server CPU µs per request
# (from /proc/PID/stat, the whole process tree), then the ratios tokenmint/node.
#
# Usage: loadtest/wrk/compare.sh [DURATION_SECONDS] [ROUNDS]
# Loopback only; every process it starts is stopped on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
duration=${1:-10}
rounds=${2:-2}
peer=${NODE_PEER:-$root/../shared/peers/node-server.js}
binary=${TOKENMINT_BINARY:-$root/.build/release/tokenmint}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
command -v node >/dev/null || { echo "node is missing" >&2; exit 1; }
[ -x "$binary" ] || { echo "no release binary at $binary: swift build -c release --product tokenmint" >&2; exit 1; }
[ -f "$peer" ] || { echo "no Node peer at $peer" >&2; exit 1; }

client_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
caller_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
python3 "$here/make-caller-tokens.py" "$caller_secret" 10000 3600 > "$work/tokens.txt"
export TOKENS_FILE="$work/tokens.txt"
common=(MIRO_CLIENT_ID=3458764500000000000 MIRO_CLIENT_SECRET="$client_secret" CALLER_JWT_HS256_SECRET="$caller_secret"
        TOKEN_TTL_SECONDS=300 TOKEN_MIN_REMAINING_SECONDS=60 HOST=127.0.0.1)

env "${common[@]}" PORT=18090 "$binary" > "$work/tokenmint.log" 2>&1 &
pids+=($!); swift_pid=$!
env "${common[@]}" PORT=18091 WORKERS=2 node "$peer" > "$work/node.log" 2>&1 &
pids+=($!); node_pid=$!

wait_ready() {
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server on port $1 did not start" >&2; exit 1
}
wait_ready 18090; wait_ready 18091

# CPU ticks (utime+stime) of a process and its children.
ticks() {
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

printf "%-10s %5s %12s %10s %12s %10s\n" server conns "req/s" "p99 ms" "CPU us/req" "RSS MiB"
declare -A rps cpu p99
for round in $(seq 1 "$rounds"); do
  for conns in 64 256; do
    for server in tokenmint node; do
      if [ "$server" = tokenmint ]; then port=18090; pid=$swift_pid; else port=18091; pid=$node_pid; fi
      before=$(ticks "$pid")
      out=$(wrk -t2 -c"$conns" -d"${duration}s" --latency -s "$here/token.lua" "http://127.0.0.1:$port")
      after=$(ticks "$pid")
      requests=$(echo "$out" | awk '/requests in/ {print $1}')
      rate=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
      bad=$(echo "$out" | awk '/non-2xx-or-3xx/ {print $2}')
      p99us=$(echo "$out" | awk '/p99_us/ {print $6}')
      cpu_us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$requests" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
      rss=$(awk -v k="$(rss_kib "$pid")" 'BEGIN {printf "%.1f", k / 1024}')
      p99ms=$(awk -v u="$p99us" 'BEGIN {printf "%.2f", u / 1000}')
      printf "%-10s %5s %12s %10s %12s %10s  (non-200: %s, round %s)\n" "$server" "$conns" "$rate" "$p99ms" "$cpu_us" "$rss" "$bad" "$round"
      [ "$bad" = 0 ] || { echo "non-200 answers from $server" >&2; exit 1; }
      key="$server-$conns"
      rps[$key]="${rps[$key]:-} $rate"; cpu[$key]="${cpu[$key]:-} $cpu_us"; p99[$key]="${p99[$key]:-} $p99ms"
    done
  done
done

mean() { echo "$1" | awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.2f", s / NF}'; }
echo
echo "ratios tokenmint/node (mean over $rounds rounds):"
for conns in 64 256; do
  r=$(awk -v a="$(mean "${rps[tokenmint-$conns]}")" -v b="$(mean "${rps[node-$conns]}")" 'BEGIN {printf "%.2f", a / b}')
  c=$(awk -v a="$(mean "${cpu[tokenmint-$conns]}")" -v b="$(mean "${cpu[node-$conns]}")" 'BEGIN {printf "%.2f", a / b}')
  p=$(awk -v a="$(mean "${p99[tokenmint-$conns]}")" -v b="$(mean "${p99[node-$conns]}")" 'BEGIN {printf "%.2f", a / b}')
  echo "  $conns connections: req/s ${r}x, CPU us/req ${c}x, p99 ${p}x"
done
