#!/usr/bin/env bash
# Runs the runtime stage of deploy/Dockerfile without a container engine, and the binary in it.
#
#   deploy/check-runtime-chroot.sh BINARY [DOCKERFILE]
#
# The stage's base (debian:bookworm-slim) is rebuilt with debootstrap (bookworm, minbase: the same package set);
# its RUN instructions run in that root with /bin/sh -c as `docker build` would, its COPY puts BINARY where the
# build stage's binary goes, and the binary is started the way the image starts it: its ENTRYPOINT, its ENV, as
# its USER, on a read-only root filesystem, with a free PORT, secrets from files (as k8s/ mounts them) and a real
# redis-server on loopback.
# Passes when the replica gets ready sharing its token through Redis, serves a token that verifies to a signed
# caller, refuses a forged one, runs as the image's user, logs no secret, and exits 0 on SIGTERM.
#
# check-runtime-deps.sh proves from ldd that the stage's packages are enough; this proves the stage itself runs
# and the binary works in it. What it cannot show is the container runtime (namespaces, cgroup limits, the
# registry's base image as of today): the image is still not built on this project's machines (no Docker engine).
#
# Needs root (debootstrap, chroot, mounting /proc), debootstrap, redis-server, curl, python3 and a Debian mirror
# (DEBIAN_MIRROR, default deb.debian.org). About 1 minute, mostly downloading packages. Everything it starts is
# stopped and its directory removed on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="${1:-}"
dockerfile="${2:-$here/Dockerfile}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
client_id="3458764500000000000"

die() { echo "check-runtime-chroot: $*" >&2; exit 2; }
fail() { echo "FAIL     $*" >&2; failures=$((failures + 1)); }
[ -n "$binary" ] || die "usage: $0 BINARY [DOCKERFILE]"
[ -f "$binary" ] || die "no such binary: $binary"
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounting /proc)"
for tool in debootstrap chroot redis-server curl python3 mount umount; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done

work="$(mktemp -d /tmp/tokenmint-runtime.XXXXXX)"
root="$work/root"
pids=()
read_only=false
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    umount "$root/proc" 2>/dev/null || umount -l "$root/proc" 2>/dev/null || true
    if $read_only; then umount "$root" 2>/dev/null || umount -l "$root" 2>/dev/null || true; fi
    # --one-file-system: never follows a mount out of the scratch root
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# ---- the stage, instruction by instruction ---------------------------------------------------------------
mapfile -t stage < <("$here/runtime-stage.sh" "$dockerfile")
[ "${#stage[@]}" -gt 0 ] || die "no runtime stage in $dockerfile"
base="$(awk '/^FROM .* AS runtime/ { print $2 }' "$dockerfile")"
[ "$base" = "debian:bookworm-slim" ] || die "the runtime stage is FROM $base; this check rebuilds debian:bookworm-slim only"

echo "debootstrap bookworm (minbase) from $mirror ..."
timeout 600 debootstrap --variant=minbase bookworm "$root" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
cp /etc/resolv.conf "$root/etc/resolv.conf"   # as docker build provides one, for apt-get in RUN
mount -t proc proc "$root/proc"

stage_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
declare -a image_env=()
user=""
entrypoint=""
for instruction in "${stage[@]}"; do
    keyword="${instruction%% *}"
    arguments="${instruction#* }"
    case "$keyword" in
        RUN)
            echo "RUN      ${arguments:0:100}..."
            timeout 900 env -i PATH="$stage_path" HOME=/root chroot "$root" /bin/sh -c "$arguments" \
                > "$work/run.log" 2>&1 || { tail -n 20 "$work/run.log" >&2; die "RUN failed: $arguments"; }
            ;;
        COPY)
            # COPY --from=build --chown=U:G --chmod=MODE /out/tokenmint DEST: the build stage's binary is BINARY.
            read -r -a words <<< "$arguments"
            destination="${words[${#words[@]} - 1]}"
            owner="0:0"
            mode="0755"
            for word in "${words[@]}"; do
                case "$word" in
                    --chown=*) owner="${word#--chown=}" ;;
                    --chmod=*) mode="${word#--chmod=}" ;;
                    --from=build) ;;
                    --*) die "COPY option $word is not replayed by this check" ;;
                esac
            done
            [ "${words[${#words[@]} - 2]}" = "/out/tokenmint" ] || die "unexpected COPY: $arguments"
            install -D -o "${owner%%:*}" -g "${owner##*:}" -m "$mode" "$binary" "$root$destination"
            echo "COPY     $binary -> $destination ($owner, $mode)"
            ;;
        ENV)
            for pair in $arguments; do
                case "$pair" in *=*) ;; *) die "ENV in KEY=VALUE form only: $pair" ;; esac
                case "$pair" in *\"*|*\'*) die "quoted ENV values are not replayed: $pair" ;; esac
                image_env+=("$pair")
            done
            echo "ENV      ${image_env[*]}"
            ;;
        USER) user="$arguments"; echo "USER     $user" ;;
        ENTRYPOINT)
            entrypoint="$(python3 -c 'import json,sys; a=json.loads(sys.argv[1]); assert len(a)==1; print(a[0])' \
                "$arguments")" || die "ENTRYPOINT must be an exec-form array of one path: $arguments"
            echo "ENTRYPOINT $entrypoint"
            ;;
        EXPOSE|STOPSIGNAL) ;;
        *) die "instruction $keyword is not replayed by this check: update it with the Dockerfile" ;;
    esac
done
if [ -z "$user" ] || [ -z "$entrypoint" ]; then die "the runtime stage needs a USER and an ENTRYPOINT"; fi

# ---- run it as the image would be run ----------------------------------------------------------------------
read -r port redis_port < <("$here/local/free-ports" 2)
secrets="$root/run/secrets"
mkdir -p "$secrets"
python3 -c 'import secrets; print(secrets.token_urlsafe(48), end="")' > "$secrets/miro-client-secret"
python3 -c 'import secrets; print(secrets.token_urlsafe(48), end="")' > "$secrets/caller-jwt-hs256-secret"
# As the kubelet writes a Secret volume for k8s/base: root's files, group fsGroup (65532), defaultMode 0440.
chown 0:"${user##*:}" "$secrets"/*
chmod 0440 "$secrets"/*

# As k8s/ runs it: readOnlyRootFilesystem (the root bound onto itself read-only, /proc mounted again on top).
umount "$root/proc"
mount --bind "$root" "$root"
read_only=true
mount -o remount,bind,ro "$root"
mount -t proc proc "$root/proc"
if touch "$root/tmp/write-check" 2>/dev/null; then die "the root is still writable"; fi

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    > "$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do   # bounded: 5 s
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $redis_port), 0.2)" 2>/dev/null && break
    sleep 0.1
done

env -i PATH="$stage_path" "${image_env[@]}" PORT="$port" \
    MIRO_CLIENT_ID="$client_id" \
    MIRO_CLIENT_SECRET_FILE=/run/secrets/miro-client-secret \
    CALLER_JWT_HS256_SECRET_FILE=/run/secrets/caller-jwt-hs256-secret \
    REDIS_URL="redis://127.0.0.1:$redis_port" \
    chroot --userspec="$user" "$root" "$entrypoint" > "$work/tokenmint.log" 2>&1 &
tokenmint_pid=$!
pids+=("$tokenmint_pid")

failures=0
ready=""
for _ in $(seq 100); do   # bounded: 10 s
    ready="$(curl -s --max-time 1 "http://127.0.0.1:$port/readyz" 2>/dev/null || true)"
    case "$ready" in *'"redis":"ok"'*) break ;; esac
    kill -0 "$tokenmint_pid" 2>/dev/null || break
    sleep 0.1
done
case "$ready" in
    *'"redis":"ok"'*) echo "ok       ready in the chroot, sharing through Redis: $ready" ;;
    *) fail "not ready with Redis within 10 s: '$ready'; log: $(tail -n 5 "$work/tokenmint.log")" ;;
esac

uid="$(awk '/^Uid:/ { print $2 }' "/proc/$tokenmint_pid/status" 2>/dev/null || true)"
if [ "$uid" = "${user%%:*}" ]; then echo "ok       runs as uid $uid"; else fail "runs as uid '$uid', not ${user%%:*}"; fi

caller="$("$here/local/caller-token" "$secrets/caller-jwt-hs256-secret" chroot-check)"
token="$(curl -s --max-time 2 -X POST "http://127.0.0.1:$port/v1/token" -H "Authorization: Bearer $caller" || true)"
if python3 - "$token" "$secrets/miro-client-secret" "$client_id" <<'PY'
import base64, hashlib, hmac, json, sys, time
token, secret_file, client_id = sys.argv[1], sys.argv[2], sys.argv[3]
secret = open(secret_file, "rb").read()
pad = lambda part: base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
header, payload, signature = token.split(".")
expected = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
claims = json.loads(pad(payload))
assert hmac.compare_digest(pad(signature), expected), "signature"
assert json.loads(pad(header))["alg"] == "HS256", "alg"
assert claims["iss"] == client_id, "iss"
assert claims["exp"] > time.time() + 60, "exp"
PY
then
    echo "ok       a signed caller gets a token that verifies (HS256, iss, exp)"
else
    fail "no valid token for a signed caller: '${token:0:80}'"
fi

forged="${caller%.*}.AAAA"
status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST "http://127.0.0.1:$port/v1/token" \
    -H "Authorization: Bearer $forged" || true)"
if [ "$status" = 401 ]; then echo "ok       a forged caller gets 401"; else fail "a forged caller got $status"; fi

kill -TERM "$tokenmint_pid"
status=""
for _ in $(seq 150); do   # bounded: 15 s (the drain is 10 s at most)
    if ! kill -0 "$tokenmint_pid" 2>/dev/null; then
        wait "$tokenmint_pid" && status=0 || status=$?
        break
    fi
    sleep 0.1
done
if [ "$status" = 0 ]; then echo "ok       SIGTERM: drained and exited 0"; else fail "SIGTERM: exit status '$status'"; fi

for file in miro-client-secret caller-jwt-hs256-secret; do
    if grep -qF "$(cat "$secrets/$file")" "$work/tokenmint.log"; then fail "the log contains $file"; fi
done
if [ -n "$token" ] && grep -qF "$token" "$work/tokenmint.log"; then fail "the log contains the served token"; fi

if [ "$failures" -gt 0 ]; then
    echo "--- tokenmint's log" >&2
    tail -n 20 "$work/tokenmint.log" >&2
    echo "check-runtime-chroot: $failures check(s) failed" >&2
    exit 1
fi
echo "check-runtime-chroot: the runtime stage of $dockerfile runs tokenmint as the image would"
