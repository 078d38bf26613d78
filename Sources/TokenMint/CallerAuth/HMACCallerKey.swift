import Crypto

/// A shared secret that may verify HS256, HS384 or HS512 caller tokens, each only when the secret is long enough.
///
/// Verified synchronously on the event loop: an HMAC costs about a microsecond, far less than a hop to jwt-kit's
/// actor would. The key's inner and outer pads are hashed once, when the key is loaded (``PrekeyedHMAC``); a
/// request copies those two states, hashes its signing input and the inner digest, and compares in constant time,
/// with no allocation.
///
/// A class, immutable: the six keyed states are OpenSSL contexts held inline, over a kilobyte, and the verifier that
/// holds this key is read on every request; a reference keeps that read one retain, not a kilobyte's copy.
final class HMACCallerKey: Sendable {
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

    /// The header `alg` values this key answers to: the allow-list checked before any MAC is computed. Three flags,
    /// not a `Set`, which would hash on every request's `contains`.
    private let allows: (hs256: Bool, hs384: Bool, hs512: Bool)
    private let hs256: PrekeyedHMAC<SHA256Function>
    private let hs384: PrekeyedHMAC<SHA384Function>
    private let hs512: PrekeyedHMAC<SHA512Function>

    init(secret: Secret, only: Set<Algorithm> = Set(Algorithm.allCases)) {
        let allowed = only.filter { secret.count >= $0.minimumKeyBytes }
        allows = (allowed.contains(.hs256), allowed.contains(.hs384), allowed.contains(.hs512))
        (hs256, hs384, hs512) = secret.symmetricKey.withUnsafeBytes { key in
            (PrekeyedHMAC(key: key), PrekeyedHMAC(key: key), PrekeyedHMAC(key: key))
        }
    }

    func algorithm(named alg: String) -> Algorithm? {
        switch alg {
        case "HS256": allows.hs256 ? .hs256 : nil
        case "HS384": allows.hs384 ? .hs384 : nil
        case "HS512": allows.hs512 ? .hs512 : nil
        default: nil
        }
    }

    /// Whether `signature` is the MAC of `input`, compared in constant time.
    func isValid(signature: UnsafeRawBufferPointer, over input: UnsafeRawBufferPointer, algorithm: Algorithm) -> Bool {
        switch algorithm {
        case .hs256: hs256.isValid(signature: signature, over: input)
        case .hs384: hs384.isValid(signature: signature, over: input)
        case .hs512: hs512.isValid(signature: signature, over: input)
        }
    }
}
