#!/usr/bin/env bash
# Proves that the runtime stage of deploy/Dockerfile installs every Debian package the tokenmint binary needs.
#
#   deploy/check-runtime-deps.sh [--allow-swift-runtime] BINARY [DOCKERFILE]
#
# Runs ldd on BINARY, maps every resolved shared library to its Debian package (dpkg -S), and checks that each
# package is either in the Dockerfile's runtime `apt-get install` list (or a dependency of one of them, as apt
# would install it) or part of the debian:bookworm-slim base (BASE_PACKAGES below). Exits non-zero when a
# library is unresolved ("not found"), belongs to no package, or needs a package the image would not have.
#
# The CI check runs it on a `swift build -c release --static-swift-stdlib --product tokenmint` binary, the one
# the Dockerfile builds: there only libc, libm, libstdc++/libgcc_s, libhiredis and libssl/libcrypto remain dynamic.
# --allow-swift-runtime accepts a debug or non-static build, whose Swift runtime libraries (libswiftCore,
# Foundation, Dispatch, ...) come from the toolchain, not from Debian: they are listed and skipped, with a note.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
allow_swift_runtime=false
if [ "${1:-}" = "--allow-swift-runtime" ]; then allow_swift_runtime=true; shift; fi
binary="${1:-}"
dockerfile="${2:-$here/Dockerfile}"

# Packages every debian:bookworm-slim image has: libc6 (Essential) and its dependency libgcc-s1, and
# libstdc++6, a dependency of apt, which the slim image keeps.
BASE_PACKAGES=(libc6 libgcc-s1 libstdc++6)

die() { echo "check-runtime-deps: $*" >&2; exit 2; }
[ -n "$binary" ] || die "usage: $0 [--allow-swift-runtime] BINARY [DOCKERFILE]"
[ -f "$binary" ] || die "no such binary: $binary"
[ -f "$dockerfile" ] || die "no such Dockerfile: $dockerfile"
for tool in ldd dpkg dpkg-query awk; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (a Debian machine is needed)"
done

# The runtime stage's packages: the `apt-get install` of the stage after the last `FROM ... AS runtime`.
mapfile -t runtime_packages < <(
    "$here/runtime-stage.sh" "$dockerfile" \
    | grep -o 'apt-get install[^&;]*' \
    | tr ' ' '\n' \
    | grep -v -e '^$' -e '^-' -e '^apt-get$' -e '^install$' \
    | sed 's/=.*//' | sort -u
)
[ "${#runtime_packages[@]}" -gt 0 ] || die "no apt-get install found in the runtime stage of $dockerfile"

# What apt would bring along: the Depends/Pre-Depends closure of the listed packages, as installed here.
declare -A provided=()
queue=("${runtime_packages[@]}" "${BASE_PACKAGES[@]}")
while [ "${#queue[@]}" -gt 0 ]; do
    package="${queue[0]}"; queue=("${queue[@]:1}")
    [ -n "${provided[$package]:-}" ] && continue
    provided[$package]=1
    depends="$(dpkg-query -W -f='${Pre-Depends}, ${Depends}' "$package" 2>/dev/null || true)"
    # "a (>= 1) | b, c:any" -> a c   (the first alternative of each, architecture qualifier dropped)
    while IFS= read -r dependency; do
        [ -n "$dependency" ] && queue+=("$dependency")
    done < <(echo "$depends" | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/:.*//' -e 's/ //g' | grep -v '^$' || true)
done

# dpkg -S by path; Debian 12 is usr-merged, so a library may be registered under /lib or /usr/lib.
package_of() {
    local path="$1" candidate owner
    for candidate in "$path" "$(readlink -f "$path")"; do
        for variant in "$candidate" "${candidate#/usr}" "/usr$candidate"; do
            owner="$(dpkg -S "$variant" 2>/dev/null | head -n 1 | cut -d: -f1)" || true
            if [ -n "$owner" ]; then echo "$owner"; return 0; fi
        done
    done
    return 1
}

echo "binary:            $binary"
echo "runtime packages:  ${runtime_packages[*]}   (from $dockerfile)"
echo "base image:        ${BASE_PACKAGES[*]}   (debian:bookworm-slim)"
echo

failures=0
swift_runtime=()
declare -A needed=()
ldd_output="$(ldd "$binary" 2>&1)" || die "ldd failed on $binary: $ldd_output"
if echo "$ldd_output" | grep -q -e 'not a dynamic executable' -e 'statically linked'; then
    echo "statically linked: no shared library to provide."
    echo "0 missing packages"
    exit 0
fi
while IFS= read -r line; do
    case "$line" in
        *"=> not found"*)
            echo "MISSING  $(echo "$line" | awk '{print $1}'): not found by the dynamic linker"
            failures=$((failures + 1)); continue ;;
        *linux-vdso.so*|*ld-linux*) continue ;;   # the kernel's vDSO; the loader itself belongs to libc6
    esac
    library="$(echo "$line" | awk '{print $1}')"
    path="$(echo "$line" | awk '$2 == "=>" {print $3}')"
    [ -n "$path" ] || continue
    if owner="$(package_of "$path")"; then
        needed[$owner]="${needed[$owner]:-}${needed[$owner]:+ }$library"
    elif [[ "$library" == libswift* || "$library" == libFoundation* || "$library" == lib_Foundation* \
            || "$library" == libdispatch* || "$library" == libBlocksRuntime* ]]; then
        swift_runtime+=("$library")
    else
        echo "UNOWNED  $library ($path) belongs to no Debian package"
        failures=$((failures + 1))
    fi
done <<< "$ldd_output"

for package in $(printf '%s\n' "${!needed[@]}" | sort); do
    if [ -n "${provided[$package]:-}" ]; then
        echo "ok       $package: ${needed[$package]}"
    else
        echo "MISSING  $package: ${needed[$package]}  (not installed by the runtime stage nor in the base image)"
        failures=$((failures + 1))
    fi
done

for package in "${runtime_packages[@]}"; do
    if [ -z "${needed[$package]:-}" ]; then
        echo "note     $package is installed but no linked library needs it (expected for data packages such as ca-certificates)"
    fi
done

if [ "${#swift_runtime[@]}" -gt 0 ]; then
    echo
    if $allow_swift_runtime; then
        echo "skipped  ${#swift_runtime[@]} Swift runtime libraries from the toolchain (not Debian packages):"
        echo "         ${swift_runtime[*]}"
        echo "note     this binary is a debug or non-static build. The image and the CI check use"
        echo "         'swift build -c release --static-swift-stdlib --product tokenmint', where the Swift runtime"
        echo "         is linked in and only libc, libstdc++/libgcc_s, libhiredis and libssl remain dynamic."
    else
        echo "FAIL     the binary links the Swift runtime dynamically (${swift_runtime[*]}):"
        echo "         build it with --static-swift-stdlib (as deploy/Dockerfile does), or pass --allow-swift-runtime"
        failures=$((failures + 1))
    fi
fi

echo
if [ "$failures" -gt 0 ]; then
    echo "$failures problem(s): the runtime stage of $dockerfile is incomplete for $binary"
    exit 1
fi
echo "0 missing packages: the runtime stage provides every shared library $(basename "$binary") needs"
