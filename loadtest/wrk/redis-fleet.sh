#!/usr/bin/env bash
# Redis-shared mode under load: Redis commands per 1,000,000 requests for a fleet, and the throughput of one
# replica with Redis against one without.
#
# Usage: loadtest/wrk/redis-fleet.sh fleet [REPLICAS] [DURATION_SECONDS] [TTL] [MIN]   (default 4 600 300 60)
#        loadtest/wrk/redis-fleet.sh ratio [DURATION_SECONDS] [ROUNDS]                   (default 20 2)
# Starts its own redis-server on a loopback port with a temp dir; every process it starts is stopped on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
binary=${TOKENMINT_BINARY:-$root/.build/release/tokenmint}
mode=${1:-fleet}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install redis-server" >&2; exit 1; }
[ -x "$binary" ] || { echo "no release binary at $binary: swift build -c release --product tokenmint" >&2; exit 1; }

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --daemonize no \
    --loglevel warning > "$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

client_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
caller_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
python3 "$here/make-caller-tokens.py" "$caller_secret" 10000 3600 > "$work/tokens.txt"
export TOKENS_FILE="$work/tokens.txt"

start_replica() { # port ttl min redis_url_or_empty
    env MIRO_CLIENT_ID=3458764500000000000 MIRO_CLIENT_SECRET="$client_secret" CALLER_JWT_HS256_SECRET="$caller_secret" \
        TOKEN_TTL_SECONDS="$2" TOKEN_MIN_REMAINING_SECONDS="$3" HOST=127.0.0.1 PORT="$1" ${4:+REDIS_URL=$4} \
        "$binary" > "$work/replica-$1.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0; sleep 0.05; done
    echo "replica on $1 did not become ready" >&2; exit 1
}
requests_of() { awk '/requests in/ { print $1 }' "$1"; }

if [ "$mode" = fleet ]; then
    replicas=${2:-4}; duration=${3:-600}; ttl=${4:-300}; min=${5:-60}
    for i in $(seq 1 "$replicas"); do start_replica $((18100 + i)) "$ttl" "$min" "redis://127.0.0.1:$redis_port"; done
    redis-cli -p "$redis_port" config resetstat > /dev/null   # count steady state only, not the cold start
    for i in $(seq 1 "$replicas"); do
        wrk -t1 -c16 -d"${duration}s" -s "$here/token.lua" "http://127.0.0.1:$((18100 + i))" > "$work/wrk-$i.txt" 2>&1 &
    done
    wait $(jobs -p | tail -n "$replicas") 2>/dev/null || true
    total=0
    for i in $(seq 1 "$replicas"); do total=$((total + $(requests_of "$work/wrk-$i.txt"))); grep -h non-2xx "$work/wrk-$i.txt"; done
    commands=$(redis-cli -p "$redis_port" info commandstats | grep -v cmdstat_config | grep -v cmdstat_info \
        | sed -n 's/^cmdstat_[^:]*:calls=\([0-9]*\),.*/\1/p' | paste -sd+ | bc)
    minted=0
    for i in $(seq 1 "$replicas"); do
        m=$(curl -fs "http://127.0.0.1:$((18100 + i))/metrics" | awk '/^tokenmint_tokens_minted_total / { print $2 }')
        minted=$(python3 -c "print(int($minted + ${m:-0}))")
    done
    redis-cli -p "$redis_port" info commandstats | grep cmdstat_
    echo "replicas=$replicas duration=${duration}s ttl=$ttl min=$min requests=$total redis_commands=$commands minted_total=$minted"
    python3 -c "print('redis commands per 1,000,000 requests: %.2f' % ($commands * 1e6 / $total))"
else
    duration=${2:-20}; rounds=${3:-2}
    start_replica 18201 300 60 "redis://127.0.0.1:$redis_port"
    start_replica 18202 300 60 ""
    for round in $(seq 1 "$rounds"); do
        order="18201 18202"; [ $((round % 2)) -eq 0 ] && order="18202 18201"   # alternate who goes first
        for port in $order; do
            wrk -t2 -c64 -d"${duration}s" -s "$here/token.lua" "http://127.0.0.1:$port" > "$work/ratio-$port-$round.txt" 2>&1
            rps=$(awk '/Requests\/sec/ { print $2 }' "$work/ratio-$port-$round.txt")
            echo "round $round port $port ($([ $port = 18201 ] && echo redis || echo local)): $rps requests/s $(grep -h non-2xx "$work/ratio-$port-$round.txt")"
        done
    done
fi
