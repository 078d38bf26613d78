#!/usr/bin/env bash
# Scenario 1, peer-compare: tokenmint (release) against the Node.js peer (WORKERS=2), measured interleaved in one
# run with the same driver and the same caller population, at 64 and 256 connections. Prints a table and the
# ratios tokenmint/node for requests/s, server CPU µs per request (from /proc) and p99. Then an open loop at 70 % of
# tokenmint's capacity found at 256 connections, against each server, for the latency targets.
#
# Usage: loadtest/scenarios/peer-compare.sh [SECONDS_PER_RUN=10] [ROUNDS=2]
# Bounded: about (4 × ROUNDS + 2) × (SECONDS + 2) s. Loopback only; every process it starts is stopped on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration="${1:-10}"
rounds="${2:-2}"
require_binaries

new_secrets
read -r tm_port node_port < <(free_ports 2)
start_tokenmint "$tm_port"
tm_pid=$STARTED_PID
start_node_peer "$node_port"
node_pid=$STARTED_PID

say "tokenmint (release) pid $tm_pid, node $(node --version) pid $node_pid, $(nproc) cores"
printf '%-10s %5s %6s %12s %9s %9s %13s %13s %8s\n' server conns round "req/s" "p99 ms" "p99.9 ms" "server us/req" "driver us/req" "RSS MiB"
results="$WORK/results.tsv"
: > "$results"
for round in $(seq 1 "$rounds"); do
    for conns in 64 256; do
        order="tokenmint node"
        [ $((round % 2)) -eq 0 ] && order="node tokenmint"   # alternate who goes first
        for server in $order; do
            if [ "$server" = tokenmint ]; then port=$tm_port; pid=$tm_pid; else port=$node_port; pid=$node_pid; fi
            json="$WORK/$server-$conns-$round.json"
            load "$json" "http://127.0.0.1:$port" --connections "$conns" --duration "$duration" --warmup 2 \
                "${DRIVER_CHECKS[@]}" --server-pid "$pid" --quiet > "$WORK/$server-$conns-$round.txt" \
                || { cat "$WORK/$server-$conns-$round.txt"; fail "the $server run at $conns connections failed"; }
            line=$(json_field "$json" '"%.0f %.3f %.3f %.2f %.2f %.1f" % (r["requests_per_second"], r["latency"]["p99_micros"] / 1e3, r["latency"]["p999_micros"] / 1e3, r["server_cpu_micros_per_request"], r["driver_cpu_micros_per_request"], r["server_rss_bytes"] / 1048576)')
            read -r rps p99 p999 server_cpu driver_cpu rss <<< "$line"
            printf '%-10s %5s %6s %12s %9s %9s %13s %13s %8s\n' "$server" "$conns" "$round" "$rps" "$p99" "$p999" "$server_cpu" "$driver_cpu" "$rss"
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$conns" "$rps" "$p99" "$server_cpu" "$driver_cpu" >> "$results"
        done
    done
done

echo
python3 - "$results" <<'PY'
import collections, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    server, conns, rps, p99, cpu, driver = line.split("\t")
    rows[(server, int(conns))].append((float(rps), float(p99), float(cpu), float(driver)))
mean = lambda xs: sum(xs) / len(xs)
print("ratios tokenmint/node (mean over rounds; CPU is the server's own, from /proc):")
for conns in (64, 256):
    t, n = rows[("tokenmint", conns)], rows[("node", conns)]
    r = mean([x[0] for x in t]) / mean([x[0] for x in n])
    c = mean([x[2] for x in t]) / mean([x[2] for x in n])
    p = mean([x[1] for x in t]) / mean([x[1] for x in n])
    d = mean([x[3] for x in t + n])
    print(f"  {conns:3d} connections: req/s {r:.2f}x, server CPU us/req {c:.2f}x, p99 {p:.2f}x   (driver {d:.1f} us/req)")
PY

rate=$(python3 - "$results" <<'PY'
import sys
rates = [float(l.split("\t")[2]) for l in open(sys.argv[1]) if l.startswith("tokenmint\t256\t")]
print(int(0.7 * sum(rates) / len(rates)))
PY
)
echo
say "open loop at $rate req/s (70 % of tokenmint's capacity at 256 connections), ${duration} s each"
for server in tokenmint node; do
    if [ "$server" = tokenmint ]; then port=$tm_port; pid=$tm_pid; else port=$node_port; pid=$node_pid; fi
    json="$WORK/$server-open.json"
    load "$json" "http://127.0.0.1:$port" --rate "$rate" --connections 256 --duration "$duration" --warmup 2 \
        "${DRIVER_CHECKS[@]}" --server-pid "$pid" --quiet --max-error-ratio 1 > "$WORK/$server-open.txt" || true
    json_field "$json" '"%-10s answered %.0f req/s, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms, errors %d, RSS %.1f MiB" % ("'"$server"'", r["requests_per_second"], r["latency"]["p50_micros"] / 1e3, r["latency"]["p99_micros"] / 1e3, r["latency"]["p999_micros"] / 1e3, r["latency"]["max_micros"] / 1e3, sum(r["errors"].values()), r["server_rss_bytes"] / 1048576)'
done
