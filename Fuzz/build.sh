#!/usr/bin/env bash
# Builds the verifier's libFuzzer target: .build-fuzz/fuzz-verifier.
#
# No SwiftPM target: the fuzzed code is compiled from the very files that ship, with swiftc, so that jwt-kit and
# swift-crypto (which the rest of the module needs) stay out and the sanitizers instrument only what is fuzzed.
#   - ExtrasBase64, under Base64URL, from the package checkout, as a static library of its own (its module name
#     is imported by Base64URL.swift);
#   - the bearer split, the segments, base64url and the claims reader, with the harness (Fuzz/Sources), as one
#     module; CallerVerifierShim.swift stands in for the type that BearerToken.swift extends.
# -O as in a release build, where UnsafeBufferPointer checks no bounds: AddressSanitizer does instead. lld links
# (gold warns about every AddressSanitizer symbol it cannot export).
set -euo pipefail
cd "$(dirname "$0")/.."

# FUZZ_SANITIZERS=fuzzer (with FUZZ_OUT=.build-fuzz-noasan) builds without AddressSanitizer: faster, for long
# local campaigns between AddressSanitizer runs.
out=${FUZZ_OUT:-.build-fuzz}
sanitize=("-sanitize=${FUZZ_SANITIZERS:-fuzzer,address}")
mkdir -p "$out"
base64=.build/checkouts/swift-extras-base64/Sources/ExtrasBase64
[ -d "$base64" ] || swift package resolve >/dev/null

swiftc -parse-as-library -O "${sanitize[@]}" -swift-version 6 \
    -module-name ExtrasBase64 -emit-module -emit-module-path "$out/ExtrasBase64.swiftmodule" \
    -enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault \
    -enable-upcoming-feature MemberImportVisibility -enable-upcoming-feature InferIsolatedConformances \
    -enable-upcoming-feature NonisolatedNonsendingByDefault -enable-upcoming-feature LifetimeDependence \
    -enable-upcoming-feature ImmutableWeakCaptures \
    -enable-experimental-feature SuppressedAssociatedTypesWithDefaults -enable-experimental-feature Lifetimes \
    -emit-library -static -o "$out/libExtrasBase64.a" "$base64"/*.swift

swiftc -parse-as-library -O "${sanitize[@]}" -swift-version 6 \
    -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility \
    -module-name VerifierFuzz -I "$out" -L "$out" -lExtrasBase64 -use-ld=lld \
    Sources/TokenMint/CallerAuth/BearerToken.swift \
    Sources/TokenMint/CallerAuth/JSONObjectReader.swift \
    Sources/TokenMint/CallerAuth/JSONObjectReaderError.swift \
    Sources/TokenMint/Minting/CompactJWS.swift \
    Sources/TokenMint/Minting/Base64URL.swift \
    Sources/TokenMint/Text/ByteSearch.swift \
    Fuzz/Sources/*.swift \
    -o "$out/fuzz-verifier"
echo "built $out/fuzz-verifier"
