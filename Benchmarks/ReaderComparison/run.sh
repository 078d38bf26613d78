#!/usr/bin/env bash
# JSONObjectReader against FoundationEssentials' JSONDecoder on the same header and claims: ns per call and heap
# allocations per call. A release-mode (-O) harness compiled with swiftc from the shipped reader files, rather than
# an ordo-one benchmark, because the Benchmarks package needs a release build of all of TokenMint (swift-crypto's
# BoringSSL included) first. Allocations are counted by malloc-counter.c, preloaded.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build-reader-comparison
mkdir -p "$out"
gcc -O2 -shared -fPIC -o "$out/libmalloc-counter.so" Benchmarks/ReaderComparison/malloc-counter.c -ldl
swiftc -O -wmo -swift-version 6 -module-name ReaderComparison \
    Sources/TokenMint/CallerAuth/JSONObjectReader.swift \
    Sources/TokenMint/CallerAuth/JSONObjectReaderError.swift \
    Benchmarks/ReaderComparison/JSONDecoderClaimsReader.swift \
    Benchmarks/ReaderComparison/main.swift \
    -o "$out/reader-comparison"
LD_PRELOAD="$PWD/$out/libmalloc-counter.so" "$out/reader-comparison"
