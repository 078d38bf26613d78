# Shared by the scenarios: binaries, secrets, free ports, processes stopped on exit, reading JSON reports.
# Sourced, not run.
# shellcheck shell=bash disable=SC2034  # the settings are used by the scripts that source this file

SCENARIO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCENARIO_DIR/../.." && pwd)"
TOKENMINT_BINARY="${TOKENMINT_BINARY:-$REPO_ROOT/.build/release/tokenmint}"
LOAD_BINARY="${TOKENMINT_LOAD_BINARY:-$REPO_ROOT/.build/release/tokenmint-load}"
NODE_PEER="${NODE_PEER:-$REPO_ROOT/../shared/peers/node-server.js}"
CLIENT_ID=3458764500000000000

WORK="$(mktemp -d /tmp/tokenmint-scenario.XXXXXX)"
SCENARIO_PIDS=()
SCENARIO_CLEANUP=()

say() { echo "== $*"; }
fail() { echo "scenario: error: $*" >&2; exit 1; }

# Every process a scenario starts is stopped on exit, whatever the exit.
scenario_cleanup() {
    local status=$? step pid
    set +e   # cleanup must run to the end; the scenario's own status is kept
    for step in "${SCENARIO_CLEANUP[@]}"; do eval "$step" >/dev/null 2>&1 || true; done
    for pid in "${SCENARIO_PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null; kill "$pid" 2>/dev/null; done
    sleep 0.2
    for pid in "${SCENARIO_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null
    rm -rf "$WORK"
    exit "$status"
}
trap scenario_cleanup EXIT
trap 'exit 130' INT TERM

require() { # COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 || fail "$1 is missing (apt-get install -y $2)"
}

require_binaries() {
    [ -x "$TOKENMINT_BINARY" ] && [ -x "$LOAD_BINARY" ] \
        || fail "no release binaries: swift build -c release --product tokenmint && swift build -c release --product tokenmint-load"
}

random_secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# The driver's caller signing and token checks for the secrets in use: set by new_secrets or start_local_stack.
DRIVER_CHECKS=()
use_secrets() { # CALLER_SECRET_FILE CLIENT_SECRET_FILE MIN_REMAINING
    DRIVER_CHECKS=(--caller-secret-file "$1" --client-secret-file "$2" --client-id "$CLIENT_ID" --min-remaining "$3")
}

# Fresh secrets for the servers a scenario starts itself: CLIENT_SECRET, CALLER_SECRET (also as files in $WORK).
new_secrets() {
    CLIENT_SECRET="$(random_secret)"
    CALLER_SECRET="$(random_secret)"
    printf '%s' "$CALLER_SECRET" > "$WORK/caller-secret"
    printf '%s' "$CLIENT_SECRET" > "$WORK/client-secret"
    use_secrets "$WORK/caller-secret" "$WORK/client-secret" 60
}

# N consecutive free loopback ports (below the kernel's ephemeral range: the driver opens many connections).
free_ports() { "$REPO_ROOT/deploy/local/free-ports" "$1"; }

wait_http() { # URL SECONDS
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt "$deadline" ]; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1")" = 200 ] && return 0
        sleep 0.1
    done
    fail "$1 did not answer 200 within $2 s"
}

# A release tokenmint on PORT without Redis, with new_secrets' secrets; its PID in $STARTED_PID.
start_tokenmint() { # PORT
    local port="$1"
    env -i PATH="$PATH" MIRO_CLIENT_ID="$CLIENT_ID" MIRO_CLIENT_SECRET="$CLIENT_SECRET" \
        CALLER_JWT_HS256_SECRET="$CALLER_SECRET" TOKEN_TTL_SECONDS=300 TOKEN_MIN_REMAINING_SECONDS=60 \
        HOST=127.0.0.1 PORT="$port" "$TOKENMINT_BINARY" > "$WORK/tokenmint-$port.log" 2>&1 &
    STARTED_PID=$!
    SCENARIO_PIDS+=("$STARTED_PID")
    wait_http "http://127.0.0.1:$port/readyz" 20
}

# The Node peer (WORKERS=2) on PORT with the same settings; its PID in $STARTED_PID.
start_node_peer() { # PORT
    require node nodejs
    [ -f "$NODE_PEER" ] || fail "no Node peer at $NODE_PEER (set NODE_PEER)"
    env -i PATH="$PATH" MIRO_CLIENT_ID="$CLIENT_ID" MIRO_CLIENT_SECRET="$CLIENT_SECRET" CALLER_JWT_HS256_SECRET="$CALLER_SECRET" \
        TOKEN_TTL_SECONDS=300 TOKEN_MIN_REMAINING_SECONDS=60 HOST=127.0.0.1 PORT="$1" WORKERS=2 \
        node "$NODE_PEER" > "$WORK/node-$1.log" 2>&1 &
    STARTED_PID=$!
    SCENARIO_PIDS+=("$STARTED_PID")
    wait_http "http://127.0.0.1:$1/healthz" 20
}

# Runs the driver with a time bound (duration + warmup + 60 s); its JSON report in FILE. Returns its exit status.
load() { # JSON_FILE DRIVER_ARGS...
    local json="$1"; shift
    local bound=600
    local args=("$@") i
    for ((i = 0; i < ${#args[@]}; i++)); do
        case "${args[$i]}" in --duration|-d) bound=$(python3 -c "print(int(float('${args[$((i + 1))]}')) + 90)") ;; esac
    done
    timeout --signal=INT --kill-after=10 "$bound" "$LOAD_BINARY" "$@" --json "$json"
}

# A field of a JSON report: json_field FILE 'expression over r' (python).
json_field() { python3 -c "import json,sys; r = json.load(open(sys.argv[1])); print($2)" "$1"; }

# CPU ticks-free helpers for scenarios that sample a process.
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# deploy/local/up with N replicas on free ports in a temp dir, stopped on exit. Sets LB_URL, REPLICA_PORTS,
# REDIS_PORT, STACK_DIR and DRIVER_CHECKS (for the stack's secrets, files under $STACK_DIR/secrets).
start_local_stack() { # N [TTL] [MIN_REMAINING]
    require redis-server redis-server; require redis-cli redis-tools; require nginx nginx-light
    local n="$1" ports
    read -r -a ports < <(free_ports $((n + 2)))
    export TOKENMINT_LOCAL_DIR="$WORK/stack" TOKENMINT_BINARY
    export TOKENMINT_LOCAL_REDIS_PORT="${ports[0]}" TOKENMINT_LOCAL_PORT="${ports[1]}"
    export TOKENMINT_LOCAL_REPLICA_BASE_PORT="${ports[2]}"
    export TOKENMINT_LOCAL_TOKEN_TTL_SECONDS="${2:-300}" TOKENMINT_LOCAL_TOKEN_MIN_REMAINING_SECONDS="${3:-60}"
    SCENARIO_CLEANUP+=("'$REPO_ROOT/deploy/local/down'")
    "$REPO_ROOT/deploy/local/up" "$n" > "$WORK/stack-up.log" 2>&1 || { cat "$WORK/stack-up.log"; fail "deploy/local/up failed"; }
    STACK_DIR="$TOKENMINT_LOCAL_DIR"
    use_secrets "$STACK_DIR/secrets/caller-jwt-hs256-secret" "$STACK_DIR/secrets/miro-client-secret" "${3:-60}"
    LB_URL="http://127.0.0.1:${ports[1]}"
    REDIS_PORT="${ports[0]}"
    REPLICA_PORTS=("${ports[@]:2}")
    say "local stack: redis :$REDIS_PORT, $n replicas :${REPLICA_PORTS[*]}, nginx $LB_URL (TTL ${2:-300} s, min ${3:-60} s)"
}

stack_redis_cli() { REDISCLI_AUTH="$(cat "$STACK_DIR/secrets/redis-password")" redis-cli -p "$REDIS_PORT" --no-auth-warning "$@"; }

# Commands the replicas sent to Redis since the last CONFIG RESETSTAT (not counting this script's own).
redis_commands() {
    # sed, not grep: no command at all (a run shorter than a refresh) must count 0, not fail the pipeline
    stack_redis_cli info commandstats | tr -d '\r' \
        | sed -n -E '/^cmdstat_(config|info|ping|auth)[:|]/d; s/^cmdstat_[^:]*:calls=([0-9]*),.*/\1/p' \
        | awk '{s += $1} END {print s + 0}'
}

# The sum over the stack's replicas of a counter from /metrics.
fleet_counter() { # NAME
    local port total=0 value
    for port in "${REPLICA_PORTS[@]}"; do
        value=$(curl -s --max-time 2 "http://127.0.0.1:$port/metrics" | awk -v n="$1" '$1 == n {print $2}')
        total=$(python3 -c "print(int($total + float('${value:-0}')))")
    done
    echo "$total"
}

stack_pid() { local pid; read -r pid _ < "$STACK_DIR/pids/$1.pid"; echo "$pid"; }
