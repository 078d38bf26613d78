#!/usr/bin/env bash
# Instructions per request of a server under callgrind: start COMMAND (it reads PORT) under valgrind, warm up with
# W requests, zero the counters, send N requests (drive.py: C keep-alive connections, distinct HS256 callers),
# dump, and divide the instructions counted (every thread of the process) by N. Instruction counts repeat within
# about 1 % even on a busy machine, so A/B of two builds needs no quiet machine.
#
# Usage: loadtest/callgrind/instructions.sh NAME N COMMAND...   (e.g. tokenmint 20000 .build-release/release/tokenmint)
# valgrind 3.19 cannot read Swift 6.3's DWARF 5: give it a copy without debug info (`objcopy --strip-debug`; the
# symbol table stays, so the profile still names functions).
# Leaves NAME.callgrind.out (the dump, for callgrind_annotate) in $OUT (default /tmp/callgrind).
set -euo pipefail
name=$1 n=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp/callgrind}
mkdir -p "$out"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export PORT=$port HOST=127.0.0.1 MIRO_CLIENT_ID=3458764500000000000 MIRO_CLIENT_SECRET=client-secret-0123456789abcdef-0123456789
export CALLER_JWT_HS256_SECRET=$(printf 'c%.0s' $(seq 64)) LOG_FORMAT=${LOG_FORMAT:-json}
rm -f "$out/$name".callgrind.out*
valgrind --tool=callgrind --callgrind-out-file="$out/$name.callgrind.out" --dump-instr=no "$@" \
    >"$out/$name.stdout" 2>"$out/$name.stderr" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 600); do
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
    kill -0 $pid 2>/dev/null || { cat "$out/$name.stderr" >&2; exit 1; }
    sleep 0.5
done
python3 "$here/drive.py" "$port" "${WARMUP:-2000}" >/dev/null
callgrind_control -z "$pid" >/dev/null
python3 "$here/drive.py" "$port" "$n" >/dev/null
callgrind_control -d "$pid" >/dev/null
sleep 1
dump=$(ls -t "$out/$name".callgrind.out.* | head -1)
total=$(awk '/^(summary|totals):/ {print $2; exit}' "$dump")
mv "$dump" "$out/$name.callgrind.out"
echo "$name: $total instructions for $n requests: $((total / n)) per request"
