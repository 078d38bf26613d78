import Crypto

/// A shared secret that may verify HS256, HS384 or HS512 caller tokens, each only when the secret is long enough.
///
/// Verified synchronously on the event loop: an HMAC costs about a microsecond, far less than a hop to jwt-kit's
/// actor would. The key's inner and outer pads are hashed once, when the key is loaded (``PrekeyedHMAC``); a
/// request copies those two states, hashes its signing input and the inner digest, and compares in constant time
/// without building an array.
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
    private let hs256: PrekeyedHMAC<SHA256>
    private let hs384: PrekeyedHMAC<SHA384>
    private let hs512: PrekeyedHMAC<SHA512>

    init(secret: Secret, only: Set<Algorithm> = Set(Algorithm.allCases)) {
        allowed = only.filter { secret.count >= $0.minimumKeyBytes }
        let key = secret.symmetricKey
        hs256 = PrekeyedHMAC(key: key)
        hs384 = PrekeyedHMAC(key: key)
        hs512 = PrekeyedHMAC(key: key)
    }

    func algorithm(named alg: String) -> Algorithm? {
        guard let algorithm = Algorithm(rawValue: alg), allowed.contains(algorithm) else { return nil }
        return algorithm
    }

    /// Whether `signature` is the MAC of `input`, compared in constant time.
    func isValid(signature: [UInt8], over input: ArraySlice<UInt8>, algorithm: Algorithm) -> Bool {
        input.withUnsafeBytes { bytes in
            signature.withUnsafeBytes { signature in
                switch algorithm {
                case .hs256: hs256.isValid(signature: signature, over: bytes)
                case .hs384: hs384.isValid(signature: signature, over: bytes)
                case .hs512: hs512.isValid(signature: signature, over: bytes)
                }
            }
        }
    }
}
