import Foundation

/// The two members of an OpenID Provider's configuration (OpenID Connect Discovery 1.0 §3) that tokenmint uses.
struct OIDCDiscoveryDocument: Sendable {
    let issuer: String
    let jwksURI: String

    /// `<issuer>/.well-known/openid-configuration`, with a trailing `/` of the issuer removed first (§4).
    static func url(issuer: String) -> String {
        var base = Substring(issuer)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + "/.well-known/openid-configuration"
    }

    /// Parses the document and checks it against the configured issuer.
    ///
    /// - Important: The document's `issuer` must equal the configured one exactly, code point for code point
    ///   (§4.3): otherwise a provider (or whoever answers that URL) could hand out another issuer's keys.
    ///   The `jwks_uri` must be a URL tokenmint would accept as `CALLER_JWT_JWKS_URL`.
    init(_ body: [UInt8], expectedIssuer: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw CallerKeyFetchError("the discovery document is not a JSON object")
        }
        guard let issuer = object["issuer"] as? String else {
            throw CallerKeyFetchError("the discovery document has no issuer")
        }
        guard CodePoints.equal(issuer, expectedIssuer) else {
            throw CallerKeyFetchError("the discovery document's issuer is not CALLER_JWT_ISSUER")
        }
        guard let jwksURI = object["jwks_uri"] as? String, FetchURL.isAcceptable(jwksURI) else {
            throw CallerKeyFetchError("the discovery document has no acceptable https:// jwks_uri")
        }
        self.issuer = issuer
        self.jwksURI = jwksURI
    }
}
