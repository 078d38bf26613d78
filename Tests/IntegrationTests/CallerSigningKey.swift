import Crypto
import Foundation
import JWTKit
import TokenMintTesting
import _CryptoExtras

/// A key the test's identity provider signs caller tokens with, and the public JWK it publishes for it.
struct CallerSigningKey: Sendable {
    let kid: String
    /// The public key as a JWKS entry.
    let jwk: String
    let keys: JWTKeyCollection
    /// The private key as PEM, for `tokenmint-load --caller-key` (ES256 only).
    let privatePEM: String?

    static func ed25519(kid: String) async -> CallerSigningKey {
        let key = Curve25519.Signing.PrivateKey()
        let x = JWTText.base64URL(key.publicKey.rawRepresentation)
        let jwk = #"{"kty":"OKP","crv":"Ed25519","use":"sig","kid":"\#(kid)","x":"\#(x)"}"#
        let keys = await JWTKeyCollection().add(eddsa: EdDSA.PrivateKey(backing: key), kid: JWKIdentifier(string: kid))
        return CallerSigningKey(kid: kid, jwk: jwk, keys: keys, privatePEM: nil)
    }

    static func es256(kid: String) async throws -> CallerSigningKey {
        let key = P256.Signing.PrivateKey()
        let raw = key.publicKey.rawRepresentation
        let x = JWTText.base64URL(raw.prefix(32))
        let y = JWTText.base64URL(raw.suffix(32))
        let jwk = #"{"kty":"EC","crv":"P-256","alg":"ES256","kid":"\#(kid)","x":"\#(x)","y":"\#(y)"}"#
        let keys = await JWTKeyCollection().add(
            ecdsa: try ES256PrivateKey(backing: key),
            kid: JWKIdentifier(string: kid)
        )
        return CallerSigningKey(kid: kid, jwk: jwk, keys: keys, privatePEM: key.pemRepresentation)
    }

    static func rs256(kid: String) async throws -> CallerSigningKey {
        let key = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let (modulus, exponent) = try key.publicKey.getKeyPrimitives()
        let jwk =
            #"{"kty":"RSA","alg":"RS256","use":"sig","kid":"\#(kid)","n":"\#(JWTText.base64URL(modulus))","e":"\#(JWTText.base64URL(exponent))"}"#
        let keys = await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        return CallerSigningKey(kid: kid, jwk: jwk, keys: keys, privatePEM: nil)
    }

    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var iat: IssuedAtClaim
        var exp: ExpirationClaim
        var iss: IssuerClaim?
        var aud: AudienceClaim?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A caller token signed with this key, with `kid` in its header (this key's own unless told otherwise).
    func sign(
        sub: String = "idp-user",
        audience: String? = "tokenmint",
        issuer: String? = nil,
        kid: String? = nil
    )
        async throws -> String
    {
        let now = Date()
        let claims = Claims(
            sub: .init(value: sub),
            iat: .init(value: now),
            exp: .init(value: now.addingTimeInterval(600)),
            iss: issuer.map { IssuerClaim(value: $0) },
            aud: audience.map { AudienceClaim(value: [$0]) }
        )
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid ?? self.kid))
    }

    static func jwks(_ keys: [CallerSigningKey], extra: [String] = []) -> String {
        #"{"keys":["# + (keys.map(\.jwk) + extra).joined(separator: ",") + "]}"
    }
}
