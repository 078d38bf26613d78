import Crypto
import Foundation
import JWTKit
import Testing

@testable import TokenMint

/// The strict caller policy, rule by rule: lifetime, `iat`, `typ`, code-point comparison, canonical base64url, and
/// the Miro id token's caller.
@Suite struct CallerPolicyTests {
    let now = Date().timeIntervalSince1970.rounded(.down)

    func verifier(_ caller: CallerSettings, clientID: String = Fixtures.clientID) async throws -> CallerVerifier {
        try await CallerVerifier.make(
            settings: Settings(clientID: clientID, clientSecret: Secret(Fixtures.clientSecret), caller: caller)
        )
    }

    func hmac(_ caller: CallerSettings = CallerSettings()) async throws -> CallerVerifier {
        var caller = caller
        caller.hmacSecret = Secret(Fixtures.callerSecret)
        return try await verifier(caller)
    }

    func outcome(_ verifier: CallerVerifier, _ token: String) async -> Result<CallerIdentity, CallerRejection> {
        switch verifier.verify(authorization: "Bearer " + token, now: now) {
        case .accepted(let identity): return .success(identity)
        case .rejected(let rejection): return .failure(rejection)
        case .needsPublicKey(let pending): return await verifier.verifyWithPublicKey(pending, now: now)
        }
    }

    func kind(_ result: Result<CallerIdentity, CallerRejection>) -> CallerRejection.Kind? {
        if case .failure(let rejection) = result { return rejection.kind }
        return nil
    }

    func token(header: String = #"{"alg":"HS256"}"#, _ claims: String, mac: TestJWT.MAC = .hs256) -> String {
        TestJWT.hmac(header: header, claims: claims, secret: Fixtures.callerSecret, mac: mac)
    }

    func claims(exp: String? = nil, extra: String = "") -> String {
        #"{"sub":"user-1","exp":\#(exp ?? String(Int(now) + 600))\#(extra)}"#
    }

    // MARK: Lifetime

    @Test func refusesTokensThatLiveTooLong() async throws {
        let verifier = try await hmac()
        #expect(kind(await outcome(verifier, token(claims(exp: "1e300")))) == .lifetime)
        #expect(kind(await outcome(verifier, token(claims(exp: String(Int(now) + 86_400 + 60))))) == .lifetime)
        #expect(kind(await outcome(verifier, token(claims(exp: String(Int(now) + 86_400))))) == nil)

        let short = try await hmac(CallerSettings(maxLifetimeSeconds: 300))
        #expect(kind(await outcome(short, token(claims(exp: String(Int(now) + 600))))) == .lifetime)
        #expect(kind(await outcome(short, token(claims(exp: String(Int(now) + 300))))) == nil)
    }

    @Test func refusesTokensIssuedInTheFuture() async throws {
        let verifier = try await hmac()
        let future = await outcome(verifier, token(claims(extra: #","iat":\#(Int(now) + 60)"#)))
        #expect(kind(future) == .notYetValid)
        if case .failure(let rejection) = future { #expect(rejection.detail.contains("iat")) }
        // Within the 5 s leeway, and in the past: fine.
        #expect(kind(await outcome(verifier, token(claims(extra: #","iat":\#(Int(now) + 4)"#)))) == nil)
        #expect(kind(await outcome(verifier, token(claims(extra: #","iat":\#(Int(now) - 600)"#)))) == nil)
    }

    // MARK: typ

    @Test func typIsCheckedOnlyWhenListed() async throws {
        let unchecked = try await hmac()
        #expect(kind(await outcome(unchecked, token(header: #"{"alg":"HS256"}"#, claims()))) == nil)
        #expect(kind(await outcome(unchecked, token(header: #"{"alg":"HS256","typ":"JOSE"}"#, claims()))) == nil)

        let listed = try await hmac(CallerSettings(types: CallerTokenTypes(list: "JWT, at+jwt")))
        for accepted in ["JWT", "jwt", "at+JWT", "application/at+jwt", "Application/JWT"] {
            let result = await outcome(listed, token(header: #"{"alg":"HS256","typ":"\#(accepted)"}"#, claims()))
            #expect(kind(result) == nil, "\(accepted)")
        }
        for refused in [#","typ":"JOSE""#, "", #","typ":"application/jwt+x""#, #","typ":7"#, #","typ":"ＪＷＴ""#] {
            let result = await outcome(listed, token(header: #"{"alg":"HS256"\#(refused)}"#, claims()))
            #expect(kind(result) == .type, "\(refused)")
        }
    }

    // MARK: Code points, not canonical equivalence

    /// `café` spelled with U+00E9, and with `e` + U+0301: equal for Swift's `==`, different for RFC 7519.
    static let composed = "https://caf\u{E9}.example"
    static let decomposed = "https://cafe\u{301}.example"

    @Test func issuerAndAudienceAreComparedByCodePoints() async throws {
        #expect(Self.composed == Self.decomposed)  // the trap: Swift's String == says they are equal
        let verifier = try await hmac(CallerSettings(issuer: Self.composed, audience: Self.composed))
        let exact = claims(extra: #","iss":"\#(Self.composed)","aud":"\#(Self.composed)""#)
        #expect(kind(await outcome(verifier, token(exact))) == nil)
        let issuer = claims(extra: #","iss":"\#(Self.decomposed)","aud":"\#(Self.composed)""#)
        #expect(kind(await outcome(verifier, token(issuer))) == .issuer)
        let audience = claims(extra: #","iss":"\#(Self.composed)","aud":["x","\#(Self.decomposed)"]"#)
        #expect(kind(await outcome(verifier, token(audience))) == .audience)
    }

    @Test func miroSubjectIsComparedByCodePoints() async throws {
        let clientID = "caf\u{E9}"
        let verifier = try await verifier(CallerSettings(acceptMiroIDToken: true), clientID: clientID)
        func miro(sub: String) -> String {
            TestJWT.hmac(
                header: #"{"alg":"HS256"}"#,
                claims: #"{"iss":"miro","sub":"\#(sub)","exp":\#(Int(now) + 60)}"#,
                secret: Fixtures.clientSecret
            )
        }
        #expect(kind(await outcome(verifier, miro(sub: clientID))) == nil)
        #expect(kind(await outcome(verifier, miro(sub: "cafe\u{301}"))) == .claims)
    }

    @Test func kidIsComparedByCodePoints() async throws {
        let ed = Curve25519.Signing.PrivateKey()
        let x = TestJWT.base64URL(ed.publicKey.rawRepresentation)
        let jwks = #"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k\#u{E9}","x":"\#(x)"}]}"#
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-jwks-\(UUID())")
        try jwks.write(to: url, atomically: true, encoding: .utf8)
        let verifier = try await verifier(CallerSettings(jwksFile: url.path, allowAnyAudience: true))
        struct Claims: JWTPayload {
            var sub: SubjectClaim
            var exp: ExpirationClaim
            func verify(using algorithm: some JWTAlgorithm) async throws {}
        }
        let claims = Claims(sub: "user-1", exp: .init(value: Date(timeIntervalSince1970: now + 600)))
        for (kid, expected) in [("k\u{E9}", CallerRejection.Kind?.none), ("ke\u{301}", .unknownKey)] {
            let keys = await JWTKeyCollection().add(
                eddsa: EdDSA.PrivateKey(backing: ed),
                kid: JWKIdentifier(string: kid)
            )
            let signed = try await keys.sign(claims, kid: JWKIdentifier(string: kid))
            #expect(kind(await outcome(verifier, signed)) == expected, "\(Array(kid.unicodeScalars))")
        }
    }

    // MARK: Canonical base64url

    /// The same bits, spelled with the last character's unused low bits set.
    static func respelled(_ segment: Substring) -> [String] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let spare = segment.count % 4 == 2 ? 0x0F : 0x03
        let last = alphabet.firstIndex(of: segment.last!)!
        return (1...spare).map { extra in String(segment.dropLast()) + String(alphabet[(last & ~spare) | extra]) }
    }

    @Test func refusesNonCanonicalSpellingsOfEachSegment() async throws {
        let verifier = try await hmac()
        for mac in [TestJWT.MAC.hs256, .hs512] {
            let long = CallerSettings(hmacSecret: Secret(Fixtures.longCallerSecret))
            let verifier = mac == .hs256 ? verifier : try await self.verifier(long)
            let secret = mac == .hs256 ? Fixtures.callerSecret : Fixtures.longCallerSecret
            let alg = mac == .hs256 ? "HS256" : "HS512"
            let good = TestJWT.hmac(header: #"{"alg":"\#(alg)"}"#, claims: claims(), secret: secret, mac: mac)
            #expect(kind(await outcome(verifier, good)) == nil)
            let parts = good.split(separator: ".")
            // A 32-byte MAC has 2 spare bits (3 other spellings); a 64-byte one has 4 (15 others).
            let spellings = Self.respelled(parts[2])
            #expect(spellings.count == (mac == .hs256 ? 3 : 15))
            for signature in spellings {
                let forged = parts[0] + "." + parts[1] + "." + signature
                #expect(kind(await outcome(verifier, forged)) == .malformed, "\(alg) \(signature)")
            }
        }
        // Header and claims segments too, where their length leaves spare bits.
        let header = TestJWT.base64URL(Array(#"{"alg":"HS256"}"#.utf8))  // 15 bytes: 20 characters, none spare
        let claimsText = claims() + " "
        let payload = TestJWT.base64URL(Array(claimsText.utf8))
        #expect(payload.count % 4 != 0)
        if payload.count % 4 != 0 {
            for respelled in Self.respelled(Substring(payload)) {
                let input = header + "." + respelled
                let mac = HMAC<SHA256>.authenticationCode(
                    for: Array(input.utf8),
                    using: SymmetricKey(data: Array(Fixtures.callerSecret.utf8))
                )
                let forged = input + "." + TestJWT.base64URL(mac)
                // A claims segment that does not decode is refused as claims, before any signature.
                #expect(kind(await outcome(verifier, forged)) == .claims)
                #expect(Base64URL.decode(Array(respelled.utf8)) == nil)
            }
        }
        #expect(Base64URL.decode(Array("QQ".utf8)) == [0x41])
        #expect(Base64URL.decode(Array("QR".utf8)) == nil)
        #expect(Base64URL.decode(Array("QUE".utf8)) == [0x41, 0x41])
        #expect(Base64URL.decode(Array("QUF".utf8)) == nil)
        #expect(Base64URL.decode(Array("Q".utf8)) == nil)
        #expect(Base64URL.decode(Array("QQ==".utf8)) == nil)
        #expect(Base64URL.decode(Array("Q Q".utf8)) == nil)
    }

    // MARK: Miro id tokens

    @Test func miroIDTokenCallerIsTheMiroUserAndTeam() async throws {
        let verifier = try await verifier(CallerSettings(acceptMiroIDToken: true))
        let token = TestJWT.hmac(
            header: #"{"alg":"HS256","typ":"JWT"}"#,
            claims:
                #"{"iss":"miro","sub":"\#(Fixtures.clientID)","user":"3074457","team":"9876","exp":\#(Int(now) + 60)}"#,
            secret: Fixtures.clientSecret
        )
        guard case .success(let identity) = await outcome(verifier, token) else {
            Issue.record("refused")
            return
        }
        #expect(identity == CallerIdentity(subject: "3074457", verifier: "miro-id-token", team: "9876"))
        // A numeric user is not refused, only not reported.
        let numeric = TestJWT.hmac(
            header: #"{"alg":"HS256"}"#,
            claims: #"{"iss":"miro","sub":"\#(Fixtures.clientID)","user":42,"exp":\#(Int(now) + 60)}"#,
            secret: Fixtures.clientSecret
        )
        guard case .success(let anonymous) = await outcome(verifier, numeric) else {
            Issue.record("refused")
            return
        }
        #expect(anonymous.subject == nil)
    }
}
