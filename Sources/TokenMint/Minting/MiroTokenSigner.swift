import Crypto

/// Mints the shared Miro token: HS256 over `{"alg":"HS256","typ":"JWT"}` and `{"iss":…,"iat":…,"exp":…}`.
///
/// The claims are written by hand rather than through a JSON encoder so that `iat` and `exp` are always whole
/// seconds (Miro's documented form) and the bytes are identical on every replica for the same inputs.
public struct MiroTokenSigner: Sendable {
    public let clientID: String
    private let key: SymmetricKey

    static let header = Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)

    public init(clientID: String, secret: Secret) {
        self.clientID = clientID
        self.key = secret.symmetricKey
    }

    /// A token issued at `now` (whole seconds, truncated) that expires `ttl` seconds later.
    public func mint(now: Double, ttl: Int) -> MiroToken {
        let issuedAt = Int(now.rounded(.down))
        let expiresAt = issuedAt + ttl
        let payload = #"{"iss":"# + JSONString.quoted(clientID) + #","iat":\#(issuedAt),"exp":\#(expiresAt)}"#
        let compact = Self.compactJWS(header: Self.header, payload: Array(payload.utf8), key: key)
        return MiroToken(compact: compact, issuedAt: issuedAt, expiresAt: expiresAt)
    }

    /// RFC 7515 §7.1 compact serialization of an HS256 JWS over exactly these header and payload bytes.
    static func compactJWS(header: [UInt8], payload: [UInt8], key: SymmetricKey) -> String {
        let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: key)
        return signingInput + "." + Base64URL.encode(Array(mac))
    }

    /// Whether `compact` is a token this signer could have minted: our header's algorithm, a valid MAC with our
    /// key, our `iss`, and integer times. Used before adopting a token from a shared store.
    public func verify(_ compact: String) -> MiroToken? {
        let bytes = Array(compact.utf8)
        guard let parts = CompactJWS(bytes), case let decoded = parts.decodedSegments(of: bytes),
            let header = try? JSONObjectReader.read(decoded.header ?? []),
            header.alg == "HS256", !header.hasCrit,
            let signature = decoded.signature,
            HMAC<SHA256>.isValidAuthenticationCode(
                signature,
                authenticating: parts.signingInput(of: bytes),
                using: key
            ),
            let payload = decoded.payload,
            let claims = try? JSONObjectReader.read(payload),
            claims.iss == clientID,
            let exp = claims.exp, let iat = claims.iat,
            exp == exp.rounded(), iat == iat.rounded(), abs(exp) < 1e15, abs(iat) < 1e15
        else { return nil }
        return MiroToken(compact: compact, issuedAt: Int(iat), expiresAt: Int(exp))
    }
}
