#!/usr/bin/env bash
# A short seeded fuzz run, as CI does it: builds the target (build.sh), replays the seed corpus and every input ever
# found (Fuzz/findings), then mutates for FUZZ_SECONDS (default 60) from seed FUZZ_SEED (default 1). A crash, a
# sanitizer report or an oracle mismatch aborts the target, and the script fails; libFuzzer then names the input it
# stored under .build-fuzz/artifacts/. New corpus entries go to a temporary directory, never into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
Fuzz/build.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p .build-fuzz/artifacts
# The Swift runtime's own crash backtracer would race AddressSanitizer's report; libFuzzer's is enough.
SWIFT_BACKTRACE=enable=no .build-fuzz/fuzz-verifier \
    -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" -dict=Fuzz/json.dict -print_final_stats=1 \
    -artifact_prefix=.build-fuzz/artifacts/ "$work" Fuzz/corpus Fuzz/findings
