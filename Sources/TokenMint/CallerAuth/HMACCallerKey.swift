import Crypto

/// A shared secret that may verify HS256, HS384 or HS512 caller tokens, each only when the secret is long enough.
///
/// Verified synchronously on the event loop with swift-crypto: an HMAC costs about a microsecond, far less than a
/// hop to jwt-kit's actor would. The keyed HMAC state (the key's inner and outer pads already hashed) is built once
/// and copied per request, which halves the work of a verification.
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

    /// The header `alg` values this key answers to: the allow-list checked before any MAC is computed.
    let allowed: Set<Algorithm>
    private let hs256: HMAC<SHA256>
    private let hs384: HMAC<SHA384>
    private let hs512: HMAC<SHA512>

    init(secret: Secret, only: Set<Algorithm> = Set(Algorithm.allCases)) {
        allowed = only.filter { secret.count >= $0.minimumKeyBytes }
        let key = secret.symmetricKey
        hs256 = HMAC(key: key)
        hs384 = HMAC(key: key)
        hs512 = HMAC(key: key)
    }

    func algorithm(named alg: String) -> Algorithm? {
        guard let algorithm = Algorithm(rawValue: alg), allowed.contains(algorithm) else { return nil }
        return algorithm
    }

    /// Constant-time comparison of the expected MAC with `signature` (swift-crypto's `safeCompare`).
    func isValid(signature: [UInt8], over input: ArraySlice<UInt8>, algorithm: Algorithm) -> Bool {
        input.withUnsafeBytes { bytes in
            switch algorithm {
            case .hs256:
                var mac = hs256
                mac.update(data: bytes)
                return mac.finalize() == signature
            case .hs384:
                var mac = hs384
                mac.update(data: bytes)
                return mac.finalize() == signature
            case .hs512:
                var mac = hs512
                mac.update(data: bytes)
                return mac.finalize() == signature
            }
        }
    }
}
