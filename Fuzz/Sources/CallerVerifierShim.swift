/// Stands in for the real `CallerVerifier`, whose file needs jwt-kit and swift-crypto, so that
/// `Sources/TokenMint/CallerAuth/BearerToken.swift`, its extension, compiles unchanged into the fuzz target.
struct CallerVerifier {}
