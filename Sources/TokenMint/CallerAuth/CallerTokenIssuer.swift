import Crypto

/// Signs an HS256 caller token the way a site's login would: for `tokenmint --dev`'s ready-to-paste curl command,
/// the tests and the load driver. tokenmint itself never issues caller tokens in production.
public struct CallerTokenIssuer: Sendable {
    private let key: SymmetricKey

    public init(secret: Secret) {
        key = secret.symmetricKey
    }

    /// A token for `subject` valid from `now` for `lifetime` seconds, with optional `iss` and `aud`.
    public func issue(
        subject: String,
        now: Double,
        lifetime: Int,
        issuer: String? = nil,
        audience: String? = nil
    ) -> String {
        let issuedAt = Int(now)
        var claims = #"{"sub":"# + JSONString.quoted(subject) + #","iat":\#(issuedAt),"exp":\#(issuedAt + lifetime)"#
        if let issuer { claims += #","iss":"# + JSONString.quoted(issuer) }
        if let audience { claims += #","aud":"# + JSONString.quoted(audience) }
        claims += "}"
        return MiroTokenSigner.compactJWS(header: MiroTokenSigner.header, payload: Array(claims.utf8), key: key)
    }
}
