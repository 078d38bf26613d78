import Crypto

/// A shared secret that may verify HS256, HS384 or HS512 caller tokens, each only when the secret is long enough.
///
/// Verified synchronously on the event loop with swift-crypto: an HMAC costs about a microsecond, far less than a
/// hop to jwt-kit's actor would.
struct HMACCallerKey: Sendable {
    enum Algorithm: String, CaseIterable, Sendable {
        case hs256 = "HS256"
        case hs384 = "HS384"
        case hs512 = "HS512"

        /// RFC 7518 §3.2: a key at least as long as the hash output. jwt-kit asserts the same (and crashes a debug
        /// build on a short key), so a shorter secret simply does not allow that algorithm.
        var minimumKeyBytes: Int {
            switch self {
            case .hs256: 32
            case .hs384: 48
            case .hs512: 64
            }
        }
    }

    let key: SymmetricKey
    /// The header `alg` values this key answers to: the allow-list checked before any MAC is computed.
    let allowed: Set<Algorithm>

    init(secret: Secret, only: Set<Algorithm> = Set(Algorithm.allCases)) {
        key = secret.symmetricKey
        allowed = only.filter { secret.count >= $0.minimumKeyBytes }
    }

    func algorithm(named alg: String) -> Algorithm? {
        guard let algorithm = Algorithm(rawValue: alg), allowed.contains(algorithm) else { return nil }
        return algorithm
    }

    func isValid(signature: [UInt8], over input: ArraySlice<UInt8>, algorithm: Algorithm) -> Bool {
        switch algorithm {
        case .hs256: HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: key)
        case .hs384: HMAC<SHA384>.isValidAuthenticationCode(signature, authenticating: input, using: key)
        case .hs512: HMAC<SHA512>.isValidAuthenticationCode(signature, authenticating: input, using: key)
        }
    }
}
