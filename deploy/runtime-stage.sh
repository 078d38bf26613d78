#!/usr/bin/env bash
# Prints the runtime stage of deploy/Dockerfile (from `FROM ... AS runtime` to the next FROM or the end), one
# instruction per line: comment lines dropped, backslash continuations joined.
#
#   deploy/runtime-stage.sh [DOCKERFILE]
#
# Shared by check-runtime-deps.sh (which packages the stage installs) and check-runtime-chroot.sh (which runs it).
set -euo pipefail
dockerfile="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/Dockerfile}"
[ -f "$dockerfile" ] || { echo "runtime-stage: no such Dockerfile: $dockerfile" >&2; exit 2; }
awk '
    /^FROM .* AS runtime/ { inruntime = 1; next }
    /^FROM / { inruntime = 0 }
    /^[[:space:]]*#/ { next }
    inruntime { print }
' "$dockerfile" \
| sed -e ':a' -e '/\\$/N; s/\\\n//; ta' \
| grep -v '^[[:space:]]*$' || true
