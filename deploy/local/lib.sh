# Shared by deploy/local/{up,down,status}: settings, PID files, bounded waits. Sourced, not run.
# shellcheck shell=bash disable=SC2034  # the settings are used by the scripts that source this file

LOCAL_DIR="${TOKENMINT_LOCAL_DIR:-/tmp/tokenmint-local}"
LB_PORT="${TOKENMINT_LOCAL_PORT:-8380}"                      # nginx, the URL clients use
REPLICA_BASE_PORT="${TOKENMINT_LOCAL_REPLICA_BASE_PORT:-8381}"  # replica i listens on BASE + i - 1
REDIS_PORT="${TOKENMINT_LOCAL_REDIS_PORT:-6380}"
MIRO_CLIENT_ID_LOCAL="${TOKENMINT_LOCAL_MIRO_CLIENT_ID:-3458764500000000000}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PID_DIR="$LOCAL_DIR/pids"

say() { echo "tokenmint-local: $*"; }
fail() { echo "tokenmint-local: error: $*" >&2; exit 1; }

# "PID STARTTIME" identifies one process, even after its PID is reused by another.
proc_starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

record_pid() { # NAME PID
    echo "$2 $(proc_starttime "$2")" > "$PID_DIR/$1.pid"
}

# Prints the PID if NAME's recorded process is still the one we started, else nothing.
live_pid() { # NAME
    local file="$PID_DIR/$1.pid" pid start
    [ -f "$file" ] || return 1
    read -r pid start < "$file" || return 1
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    [ "$(proc_starttime "$pid")" = "$start" ] || return 1
    echo "$pid"
}

port_in_use() { # PORT -> 0 if something listens on 127.0.0.1:PORT or the port cannot be bound
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# as the servers themselves bind: a port left in TIME_WAIT by an earlier connection is free for them
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
finally:
    s.close()
sys.exit(1)
PY
}

http_status() { # URL -> the status code, or 000
    curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" 2>/dev/null || true
}

# Stops NAME's recorded process: SIGTERM, up to GRACE seconds, then SIGKILL. Removes its PID file.
stop_part() { # NAME GRACE
    local name="$1" grace="$2" pid deadline
    if pid="$(live_pid "$name")"; then
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + grace))
        while [ -d "/proc/$pid" ] && [ "$(proc_starttime "$pid")" != "" ] && [ $SECONDS -lt $deadline ]; do
            # a zombie child of ours would never go away: it is gone for our purpose
            [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = "Z" ] && break
            sleep 0.1
        done
        if [ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]; then
            say "$name (pid $pid) did not stop within ${grace}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "stopped $name (pid $pid)"
    fi
    rm -f "$PID_DIR/$name.pid"
}

replica_names() { # every replica with a PID file, in order
    local file
    for file in "$PID_DIR"/replica-*.pid; do
        [ -e "$file" ] || continue
        basename "$file" .pid
    done | sort -t- -k2 -n
}
