#!/usr/bin/env bash
# Writes random secrets for deploy/compose.yaml into deploy/secrets/ (git-ignored), unless they exist.
# For a real Miro app, put its client secret into deploy/secrets/miro-client-secret yourself and set
# MIRO_CLIENT_ID when running compose.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets"
umask 077
mkdir -p "$dir"
for name in miro-client-secret caller-jwt-hs256-secret redis-password; do
    if [ ! -s "$dir/$name" ]; then
        python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > "$dir/$name"
        echo "wrote $dir/$name"
    fi
done
# The compose containers run as uid 65532 (tokenmint) and 999 (redis): compose bind-mounts secret files
# with their host permissions, so make them group/other-readable inside this private directory only.
chmod 0700 "$dir"; chmod 0444 "$dir"/miro-client-secret "$dir"/caller-jwt-hs256-secret "$dir"/redis-password
