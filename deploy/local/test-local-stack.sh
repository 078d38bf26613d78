#!/usr/bin/env bash
# Tests deploy/local/{up,status,down} end to end with a given tokenmint binary (one with Redis-shared mode):
#   deploy/local/test-local-stack.sh [BINARY]      (or TOKENMINT_BINARY)
# Brings up 3 replicas + redis + nginx on free loopback ports in a fresh temp dir, checks that 30 requests
# through nginx all answer 200 with ONE distinct token from every replica, that each replica's /readyz says
# "redis":"ok", that a taken port is refused cleanly, then runs down and checks nothing it started is left.
# Prints "N passed, M failed" last; exits non-zero on any failure.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

binary="${1:-${TOKENMINT_BINARY:-}}"
if [ -z "$binary" ]; then
    for candidate in "$here/../../.build/release/tokenmint" "$here/../../.build/debug/tokenmint"; do
        [ -x "$candidate" ] && { binary="$candidate"; break; }
    done
fi
passed=0; failed=0
pass() { echo "PASS  $*"; passed=$((passed + 1)); }
flunk() { echo "FAIL  $*"; failed=$((failed + 1)); }
check() { # DESCRIPTION COMMAND...
    local what="$1"; shift
    if "$@"; then pass "$what"; else flunk "$what"; fi
}
finish() { echo; echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }

if [ -z "$binary" ] || [ ! -x "$binary" ]; then
    flunk "a tokenmint binary to test (pass it as the first argument or TOKENMINT_BINARY)"
    finish; exit 1
fi

export TOKENMINT_BINARY="$binary"
export TOKENMINT_LOCAL_DIR; TOKENMINT_LOCAL_DIR="$(mktemp -d /tmp/tokenmint-local-test.XXXXXX)"
# Free loopback ports for redis, nginx and 3 consecutive replicas (below the ephemeral range: see free-ports).
read -r redis_port lb_port base_port _ < <("$here/free-ports" 5)
export TOKENMINT_LOCAL_REDIS_PORT="$redis_port" TOKENMINT_LOCAL_PORT="$lb_port" TOKENMINT_LOCAL_REPLICA_BASE_PORT="$base_port"
pids_started=()
cleanup() {
    "$here/down" >/dev/null 2>&1 || true
    [ -n "${blocker_pid:-}" ] && kill "$blocker_pid" 2>/dev/null
    rm -rf "$TOKENMINT_LOCAL_DIR"
}
trap cleanup EXIT

echo "binary: $binary"
echo "ports:  redis $redis_port, nginx $lb_port, replicas $base_port..$((base_port + 2)); state $TOKENMINT_LOCAL_DIR"

# ---- a taken port is refused, and nothing is left behind ---------------------------------------------
python3 -c "import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1',$lb_port)); s.listen(); time.sleep(60)" &
blocker_pid=$!
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$lb_port),0.2)" 2>/dev/null && break; sleep 0.1; done
out="$(timeout 60 "$here/up" 3 2>&1)"; rc=$?
check "up refuses a taken port with a clear error" bash -c '[ "$0" -ne 0 ] && grep -q "127.0.0.1:$1 is already in use" <<< "$2"' "$rc" "$lb_port" "$out"
check "a refused up leaves no PID file" bash -c '[ -z "$(ls -A "$0/pids" 2>/dev/null)" ]' "$TOKENMINT_LOCAL_DIR"
kill "$blocker_pid" 2>/dev/null; wait "$blocker_pid" 2>/dev/null; blocker_pid=""

# ---- up ------------------------------------------------------------------------------------------------
out="$(timeout 120 "$here/up" 3 2>&1)"; rc=$?
check "up 3 exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || { echo "$out" | tail -n 20; }
for file in "$TOKENMINT_LOCAL_DIR"/pids/*.pid; do
    [ -e "$file" ] && pids_started+=("$(awk '{print $1}' "$file")")
done
check "up started 5 processes (redis, 3 replicas, nginx)" test "${#pids_started[@]}" -eq 5
check "up prints a ready-to-paste curl command" bash -c 'grep -q "^curl -X POST http://127.0.0.1:$0/v1/token .*Authorization: Bearer ey" <<< "$1"' "$lb_port" "$out"
timeout 30 "$here/status" >/dev/null 2>&1
check "status exits 0 while everything is up" test $? -eq 0

# ---- each replica is ready with Redis ------------------------------------------------------------------
for i in 1 2 3; do
    body="$(curl -s --max-time 2 "http://127.0.0.1:$((base_port + i - 1))/readyz")"
    check "replica-$i /readyz says \"redis\":\"ok\" ($body)" grep -q '"redis":"ok"' <<< "$body"
done

# ---- 30 requests through nginx: all 200, one token, every replica answering ----------------------------
caller="$(cat "$TOKENMINT_LOCAL_DIR/caller-token" 2>/dev/null)"
statuses=(); tokens=(); upstreams=()
for _ in $(seq 30); do
    response="$(curl -s --max-time 2 -D "$TOKENMINT_LOCAL_DIR/headers" -o "$TOKENMINT_LOCAL_DIR/body" -w '%{http_code}' \
        -X POST "http://127.0.0.1:$lb_port/v1/token" -H "Authorization: Bearer $caller")"
    statuses+=("$response")
    tokens+=("$(cat "$TOKENMINT_LOCAL_DIR/body" 2>/dev/null)")
    upstreams+=("$(tr -d '\r' < "$TOKENMINT_LOCAL_DIR/headers" | awk -F': ' 'tolower($1) == "x-tokenmint-upstream" {print $2}')")
done
ok_count="$(printf '%s\n' "${statuses[@]}" | grep -c '^200$')"
distinct_tokens="$(printf '%s\n' "${tokens[@]}" | sort -u | grep -c .)"
distinct_upstreams="$(printf '%s\n' "${upstreams[@]}" | sort -u | grep -c .)"
check "30 requests through nginx: $ok_count answered 200" test "$ok_count" -eq 30
check "30 requests through nginx: $distinct_tokens distinct token(s), expected 1" test "$distinct_tokens" -eq 1
check "the requests were spread over $distinct_upstreams replicas, expected 3" test "$distinct_upstreams" -eq 3
check "the token is a JWT (three base64url parts)" bash -c '[[ "$0" =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]' "${tokens[0]}"
bad="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST "http://127.0.0.1:$lb_port/v1/token" -H 'Authorization: Bearer not-a-token')"
check "a bad caller token is refused through nginx with 401 (got $bad)" test "$bad" = 401

# ---- down: nothing left --------------------------------------------------------------------------------
timeout 60 "$here/down" >/dev/null 2>&1
check "down exits 0" test $? -eq 0
left=()
for pid in "${pids_started[@]}"; do
    if [ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then left+=("$pid"); fi
done
check "no process up started is left running (${left[*]:-none})" test "${#left[@]}" -eq 0
ports_left=()
for port in "$redis_port" "$lb_port" "$base_port" $((base_port + 1)) $((base_port + 2)); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && ports_left+=("$port")
done
check "no port of the stack still listens (${ports_left[*]:-none})" test "${#ports_left[@]}" -eq 0
timeout 30 "$here/status" >/dev/null 2>&1
check "status reports 'not running' (exit 3) after down" test $? -eq 3
check "down deleted the generated secrets" test ! -e "$TOKENMINT_LOCAL_DIR/secrets"

finish
