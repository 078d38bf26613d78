import Crypto
import Foundation
import JWTKit
import Testing

@testable import TokenMint

@Suite struct MintingTests {
    /// RFC 7515 appendix A.1: the exact header and payload bytes, the key, and the resulting signature. A wrong
    /// base64url alphabet, padding or signing input cannot hide behind a round trip against our own verifier.
    @Test func signerMatchesRFC7515AppendixA1() throws {
        let header: [UInt8] = [
            123, 34, 116, 121, 112, 34, 58, 34, 74, 87, 84, 34, 44, 13, 10, 32, 34, 97, 108, 103, 34, 58, 34,
            72, 83, 50, 53, 54, 34, 125,
        ]
        let payload = Array("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}".utf8)
        let keyBytes = try #require(
            TestJWT.decodeBase64URL(
                "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
            )
        )
        let compact = MiroTokenSigner.compactJWS(header: header, payload: payload, key: SymmetricKey(data: keyBytes))
        #expect(
            compact
                == "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
                + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        )
    }

    @Test func mintedTokenHasMiroShape() throws {
        let signer = MiroTokenSigner(clientID: Fixtures.clientID, secret: Secret(Fixtures.clientSecret))
        let token = signer.mint(now: 1_800_000_000.75, ttl: 300)
        #expect(token.issuedAt == 1_800_000_000)
        #expect(token.expiresAt == 1_800_000_300)

        let parts = token.compact.split(separator: ".")
        try #require(parts.count == 3)
        let header = String(decoding: try #require(TestJWT.decodeBase64URL(parts[0])), as: UTF8.self)
        let payload = String(decoding: try #require(TestJWT.decodeBase64URL(parts[1])), as: UTF8.self)
        #expect(header == #"{"alg":"HS256","typ":"JWT"}"#)
        #expect(payload == #"{"iss":"3458764500000000001","iat":1800000000,"exp":1800000300}"#)
    }

    /// An independent decoder (jwt-kit) accepts what we mint with the client secret, and nothing else.
    @Test func jwtKitVerifiesMintedToken() async throws {
        struct MiroClaims: JWTPayload {
            var iss: IssuerClaim
            var exp: ExpirationClaim
            var iat: IssuedAtClaim
            func verify(using algorithm: some JWTAlgorithm) async throws { try exp.verifyNotExpired() }
        }
        let signer = MiroTokenSigner(clientID: Fixtures.clientID, secret: Secret(Fixtures.clientSecret))
        let token = signer.mint(now: Date().timeIntervalSince1970, ttl: 300)

        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: Fixtures.clientSecret), digestAlgorithm: .sha256)
        let claims = try await keys.verify(token.compact, as: MiroClaims.self)
        #expect(claims.iss.value == Fixtures.clientID)

        let wrong = await JWTKeyCollection().add(
            hmac: HMACKey(from: Fixtures.callerSecret),
            digestAlgorithm: .sha256
        )
        await #expect(throws: (any Error).self) { try await wrong.verify(token.compact, as: MiroClaims.self) }
    }

    @Test func clientIDIsEscapedInClaims() throws {
        let signer = MiroTokenSigner(clientID: #"a"b\c"#, secret: Secret(Fixtures.clientSecret))
        let token = signer.mint(now: 1_800_000_000, ttl: 300)
        let payload = try #require(TestJWT.decodeBase64URL(token.compact.split(separator: ".")[1]))
        let object = try JSONSerialization.jsonObject(with: payload) as? [String: Any]
        #expect(object?["iss"] as? String == #"a"b\c"#)
        #expect(signer.verify(token.compact) == token)
    }

    @Test func signerVerifiesOnlyItsOwnTokens() {
        let signer = MiroTokenSigner(clientID: Fixtures.clientID, secret: Secret(Fixtures.clientSecret))
        let token = signer.mint(now: 1_800_000_000, ttl: 300)
        #expect(signer.verify(token.compact) == token)

        let otherSecret = MiroTokenSigner(clientID: Fixtures.clientID, secret: Secret(Fixtures.callerSecret))
        #expect(otherSecret.verify(token.compact) == nil)
        let otherClient = MiroTokenSigner(clientID: "someone-else", secret: Secret(Fixtures.clientSecret))
        #expect(otherClient.verify(token.compact) == nil)
        #expect(signer.verify("garbage") == nil)
        #expect(signer.verify(token.compact + "x") == nil)
    }

    @Test func timingWindowArithmetic() {
        let timing = TokenTiming(ttlSeconds: 300, minRemainingSeconds: 60)
        let token = MiroToken(compact: "t", issuedAt: 1000, expiresAt: 1300)
        #expect(timing.windowSeconds == 240)
        #expect(timing.isServable(token, at: 1240))
        #expect(!timing.isServable(token, at: 1240.5))
        // Refresh starts at MIN + 25..35 % of the window before expiry.
        #expect(timing.refreshTime(for: token, fraction: 0.25) == 1300 - 60 - 60)
        #expect(timing.refreshTime(for: token, fraction: 0.35) == 1300 - 60 - 84)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let at = timing.refreshTime(for: token, using: &generator)
            #expect((1156...1180).contains(at))
        }
    }

    @Test func fingerprintsAreShortAndNeverTheToken() {
        let token = MiroToken(compact: "header.payload.signature", issuedAt: 0, expiresAt: 1)
        #expect(token.fingerprint.count == 8)
        #expect(!token.compact.contains(token.fingerprint))
        #expect(Secret("s").description == "<secret, 1 bytes>")
    }
}
