import Crypto
import Foundation
import JWTKit
import Testing
import _CryptoExtras

@testable import TokenMint

/// A class, so that each test's key files go with it (`deinit`): the verifier reads them when it is made.
@Suite final class CallerVerifierTests {
    let now = Date().timeIntervalSince1970
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-keys-\(UUID())")

    init() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func verifier(_ caller: CallerSettings) async throws -> CallerVerifier {
        try await CallerVerifier.make(settings: Fixtures.settings(caller: caller))
    }

    func hmacVerifier(
        secret: String = Fixtures.callerSecret,
        issuer: String? = nil,
        audience: String? = nil
    )
        async throws -> CallerVerifier
    {
        try await verifier(CallerSettings(hmacSecret: Secret(secret), issuer: issuer, audience: audience))
    }

    /// Runs both halves, as the HTTP handler does.
    func outcome(
        _ verifier: CallerVerifier,
        _ token: String?,
        scheme: String = "Bearer "
    ) async -> Result<
        CallerIdentity, CallerRejection
    > {
        switch verifier.verify(authorization: token.map { scheme + $0 }, now: now) {
        case .accepted(let identity): return .success(identity)
        case .rejected(let rejection): return .failure(rejection)
        case .needsPublicKey(let pending): return await verifier.verifyWithPublicKey(pending, now: now)
        }
    }

    func expectRejected(
        _ result: Result<CallerIdentity, CallerRejection>,
        _ kind: CallerRejection.Kind,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        switch result {
        case .success(let identity):
            Issue.record("accepted \(identity), expected \(kind)", sourceLocation: sourceLocation)
        case .failure(let rejection): #expect(rejection.kind == kind, sourceLocation: sourceLocation)
        }
    }

    func expectAccepted(
        _ result: Result<CallerIdentity, CallerRejection>,
        subject: String = "user-1",
        verifier: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        switch result {
        case .success(let identity):
            #expect(identity.subject == subject, sourceLocation: sourceLocation)
            #expect(identity.verifier == verifier, sourceLocation: sourceLocation)
        case .failure(let rejection): Issue.record("rejected: \(rejection)", sourceLocation: sourceLocation)
        }
    }

    // MARK: Shared secrets

    @Test func acceptsEachHMACAlgorithmWithALongEnoughSecret() async throws {
        let verifier = try await hmacVerifier(secret: Fixtures.longCallerSecret)
        for (alg, mac) in [("HS256", TestJWT.MAC.hs256), ("HS384", .hs384), ("HS512", .hs512)] {
            let token = TestJWT.hmac(
                header: #"{"alg":"\#(alg)","typ":"JWT"}"#,
                claims: TestJWT.claims(now: now),
                secret: Fixtures.longCallerSecret,
                mac: mac
            )
            expectAccepted(await outcome(verifier, token), verifier: "hmac")
        }
        // The scheme is case-insensitive (RFC 6750 / RFC 9110).
        let token = TestJWT.hmac(
            header: #"{"alg":"HS256"}"#,
            claims: TestJWT.claims(now: now),
            secret: Fixtures.longCallerSecret
        )
        expectAccepted(await outcome(verifier, token, scheme: "bearer  "), verifier: "hmac")
    }

    @Test func shortSecretAllowsOnlyHS256() async throws {
        let verifier = try await hmacVerifier()
        let token = TestJWT.hmac(
            header: #"{"alg":"HS512"}"#,
            claims: TestJWT.claims(now: now),
            secret: Fixtures.callerSecret,
            mac: .hs512
        )
        expectRejected(await outcome(verifier, token), .algorithm)
    }

    @Test func refusesMalformedAuthorization() async throws {
        let verifier = try await hmacVerifier()
        expectRejected(await outcome(verifier, nil), .missing)
        expectRejected(await outcome(verifier, "abc", scheme: "Basic "), .notBearer)
        expectRejected(await outcome(verifier, "", scheme: "Bearer"), .notBearer)
        expectRejected(await outcome(verifier, "a.b"), .malformed)
        expectRejected(await outcome(verifier, "a.b.c.d.e"), .malformed)
        expectRejected(await outcome(verifier, "a..c"), .malformed)
        expectRejected(await outcome(verifier, "!!!.???.***"), .malformed)
        let notJSON = TestJWT.unsigned(header: "not json", claims: "{}", signature: "AAAA")
        expectRejected(await outcome(verifier, notJSON), .malformed)
    }

    @Test func refusesAlgNoneAndUnknownAlgorithms() async throws {
        let verifier = try await hmacVerifier()
        let claims = TestJWT.claims(now: now)
        let noneEmpty = TestJWT.unsigned(header: #"{"alg":"none"}"#, claims: claims, signature: "")
        expectRejected(await outcome(verifier, noneEmpty), .malformed)
        let noneSigned = TestJWT.unsigned(header: #"{"alg":"none"}"#, claims: claims, signature: "AAAA")
        expectRejected(await outcome(verifier, noneSigned), .algorithm)
        let unknown = TestJWT.hmac(header: #"{"alg":"HS999"}"#, claims: claims, secret: Fixtures.callerSecret)
        expectRejected(await outcome(verifier, unknown), .algorithm)
        let lowercase = TestJWT.hmac(header: #"{"alg":"hs256"}"#, claims: claims, secret: Fixtures.callerSecret)
        expectRejected(await outcome(verifier, lowercase), .algorithm)
        let crit = TestJWT.hmac(
            header: #"{"alg":"HS256","crit":["exp"]}"#,
            claims: claims,
            secret: Fixtures.callerSecret
        )
        expectRejected(await outcome(verifier, crit), .algorithm)
    }

    /// The confusion attacks jwt-kit 5 alone would not stop.
    @Test func refusesAlgorithmConfusion() async throws {
        let verifier = try await hmacVerifier(secret: Fixtures.longCallerSecret)
        let claims = TestJWT.claims(now: now)
        // An HS512 header over an HS256 MAC.
        let downgraded = TestJWT.hmac(
            header: #"{"alg":"HS512"}"#,
            claims: claims,
            secret: Fixtures.longCallerSecret,
            mac: .hs256
        )
        expectRejected(await outcome(verifier, downgraded), .signature)
        // An RS256 header over an HMAC, with and without an RSA key configured.
        let confused = TestJWT.hmac(header: #"{"alg":"RS256"}"#, claims: claims, secret: Fixtures.longCallerSecret)
        expectRejected(await outcome(verifier, confused), .algorithm)

        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let pem = try writeTemporary(rsa.publicKey.pemRepresentation)
        let both = try await self.verifier(
            CallerSettings(hmacSecret: Secret(Fixtures.longCallerSecret), publicKeyFile: pem)
        )
        expectRejected(await outcome(both, confused), .signature)
    }

    @Test func refusesBadSignature() async throws {
        let verifier = try await hmacVerifier()
        let token = TestJWT.hmac(
            header: #"{"alg":"HS256"}"#,
            claims: TestJWT.claims(now: now),
            secret: Fixtures.longCallerSecret
        )
        expectRejected(await outcome(verifier, token), .signature)
    }

    @Test func checksTimeClaimsWithLeeway() async throws {
        let verifier = try await hmacVerifier()
        func token(_ claims: String) -> String {
            TestJWT.hmac(header: #"{"alg":"HS256"}"#, claims: claims, secret: Fixtures.callerSecret)
        }
        expectRejected(await outcome(verifier, token(TestJWT.claims(exp: now - 10, now: now))), .expired)
        expectAccepted(await outcome(verifier, token(TestJWT.claims(exp: now - 3, now: now))), verifier: "hmac")
        expectRejected(await outcome(verifier, token(TestJWT.claims(nbf: now + 60, now: now))), .notYetValid)
        expectAccepted(await outcome(verifier, token(TestJWT.claims(nbf: now + 3, now: now))), verifier: "hmac")
        expectRejected(await outcome(verifier, token(#"{"sub":"user-1"}"#)), .claims)
        expectRejected(await outcome(verifier, token(#"{"sub":"user-1","exp":"soon"}"#)), .claims)
    }

    @Test func enforcesIssuerAndAudienceWhenSet() async throws {
        let verifier = try await hmacVerifier(issuer: "https://site.example", audience: "tokenmint")
        func token(iss: String?, aud: String?) -> String {
            TestJWT.hmac(
                header: #"{"alg":"HS256"}"#,
                claims: TestJWT.claims(iss: iss, aud: aud, now: now),
                secret: Fixtures.callerSecret
            )
        }
        expectAccepted(await outcome(verifier, token(iss: "https://site.example", aud: "tokenmint")), verifier: "hmac")
        expectRejected(await outcome(verifier, token(iss: "https://evil.example", aud: "tokenmint")), .issuer)
        expectRejected(await outcome(verifier, token(iss: nil, aud: "tokenmint")), .issuer)
        expectRejected(await outcome(verifier, token(iss: "https://site.example", aud: "other")), .audience)
        let array = TestJWT.hmac(
            header: #"{"alg":"HS256"}"#,
            claims: #"{"sub":"user-1","exp":\#(Int(now) + 60),"iss":"https://site.example","aud":["x","tokenmint"]}"#,
            secret: Fixtures.callerSecret
        )
        expectAccepted(await outcome(verifier, array), verifier: "hmac")
    }

    // MARK: Miro id tokens

    @Test func acceptsMiroIDTokensOnlyWhenEnabledAndShapedRight() async throws {
        let miroToken = TestJWT.hmac(
            header: #"{"alg":"HS256","typ":"JWT"}"#,
            claims: #"{"iss":"miro","sub":"\#(Fixtures.clientID)","user":"42","exp":\#(Int(now) + 60)}"#,
            secret: Fixtures.clientSecret
        )

        let disabled = try await hmacVerifier()
        expectRejected(await outcome(disabled, miroToken), .signature)

        let enabled = try await verifier(
            CallerSettings(hmacSecret: Secret(Fixtures.callerSecret), acceptMiroIDToken: true)
        )
        // The caller is the Miro user the token names; its sub is our own client ID.
        expectAccepted(await outcome(enabled, miroToken), subject: "42", verifier: "miro-id-token")

        // A token we minted ourselves is signed with the same secret: it must never pass as a caller.
        let minted = MiroTokenSigner(clientID: Fixtures.clientID, secret: Secret(Fixtures.clientSecret))
            .mint(now: now, ttl: 300)
        expectRejected(await outcome(enabled, minted.compact), .claims)

        let otherApp = TestJWT.hmac(
            header: #"{"alg":"HS256"}"#,
            claims: #"{"iss":"miro","sub":"other","exp":\#(Int(now) + 60)}"#,
            secret: Fixtures.clientSecret
        )
        expectRejected(await outcome(enabled, otherApp), .claims)
    }

    // MARK: Public keys

    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    func sign(with keys: JWTKeyCollection, kid: String? = nil, exp: Double? = nil) async throws -> String {
        let claims = Claims(sub: "user-1", exp: .init(value: Date(timeIntervalSince1970: exp ?? now + 600)))
        return try await keys.sign(claims, kid: kid.map { JWKIdentifier(string: $0) })
    }

    func writeTemporary(_ text: String) throws -> String {
        let url = directory.appendingPathComponent("key-\(UUID())")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func acceptsRS256FromAPEMKey() async throws {
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let signing = await JWTKeyCollection().add(
            rsa: try Insecure.RSA.PrivateKey(backing: rsa),
            digestAlgorithm: .sha256
        )
        let verifier = try await verifier(
            CallerSettings(publicKeyFile: try writeTemporary(rsa.publicKey.pemRepresentation))
        )
        expectAccepted(await outcome(verifier, try await sign(with: signing)), verifier: "public-key")
        expectRejected(await outcome(verifier, try await sign(with: signing, exp: now - 60)), .expired)
        // Identity providers put a kid in every token: with no JWKS naming it, the PEM key verifies it.
        let withKID = await JWTKeyCollection().add(
            rsa: try Insecure.RSA.PrivateKey(backing: rsa),
            digestAlgorithm: .sha256,
            kid: "idp-2026-11"
        )
        expectAccepted(
            await outcome(verifier, try await sign(with: withKID, kid: "idp-2026-11")),
            verifier: "public-key"
        )

        let otherKey = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let other = await JWTKeyCollection().add(rsa: otherKey, digestAlgorithm: .sha256)
        expectRejected(await outcome(verifier, try await sign(with: other)), .signature)
        let otherWithKID = await JWTKeyCollection().add(rsa: otherKey, digestAlgorithm: .sha256, kid: "idp-2026-11")
        expectRejected(await outcome(verifier, try await sign(with: otherWithKID, kid: "idp-2026-11")), .signature)
    }

    @Test func acceptsES256AndEdDSAFromPEMKeys() async throws {
        let ec = ES256PrivateKey()
        let ecVerifier = try await verifier(
            CallerSettings(publicKeyFile: try writeTemporary(ec.publicKey.pemRepresentation))
        )
        expectAccepted(
            await outcome(ecVerifier, try await sign(with: await JWTKeyCollection().add(ecdsa: ec))),
            verifier: "public-key"
        )

        let ed = Curve25519.Signing.PrivateKey()
        let edVerifier = try await verifier(
            CallerSettings(publicKeyFile: try writeTemporary(ed.publicKey.pemRepresentation))
        )
        let edKeys = await JWTKeyCollection().add(eddsa: EdDSA.PrivateKey(backing: ed))
        expectAccepted(await outcome(edVerifier, try await sign(with: edKeys)), verifier: "public-key")
        // An ES256 token against the Ed25519 key: refused before jwt-kit runs the key's algorithm.
        expectRejected(
            await outcome(edVerifier, try await sign(with: await JWTKeyCollection().add(ecdsa: ec))),
            .algorithm
        )
    }

    @Test func choosesJWKSKeysByKID() async throws {
        let ed = Curve25519.Signing.PrivateKey()
        let ec = P256.Signing.PrivateKey()
        let ecRaw = ec.publicKey.rawRepresentation
        let jwks = """
            {"keys":[
              {"kty":"OKP","crv":"Ed25519","kid":"ed-1","x":"\(TestJWT.base64URL(ed.publicKey.rawRepresentation))"},
              {"kty":"EC","crv":"P-256","kid":"ec-1","alg":"ES256",
               "x":"\(TestJWT.base64URL(ecRaw.prefix(32)))","y":"\(TestJWT.base64URL(ecRaw.suffix(32)))"},
              {"kty":"EC","crv":"P-256","kid":"lying","alg":"EdDSA",
               "x":"\(TestJWT.base64URL(ecRaw.prefix(32)))","y":"\(TestJWT.base64URL(ecRaw.suffix(32)))"},
              {"kty":"oct","kid":"symmetric","k":"AAAA"}
            ]}
            """
        let verifier = try await verifier(CallerSettings(jwksFile: try writeTemporary(jwks)))
        #expect(verifier.skippedKeys.count == 2, "\(verifier.skippedKeys)")
        // An alg that contradicts the key type could never verify anything: skipped, so startup warns about it.
        #expect(verifier.skippedKeys.contains { $0.contains("lying") && $0.contains("alg EdDSA") })

        let edKeys = await JWTKeyCollection().add(eddsa: EdDSA.PrivateKey(backing: ed), kid: "ed-1")
        let ecKeys = await JWTKeyCollection().add(ecdsa: try ES256PrivateKey(backing: ec), kid: "ec-1")
        expectAccepted(await outcome(verifier, try await sign(with: edKeys, kid: "ed-1")), verifier: "jwks")
        expectAccepted(await outcome(verifier, try await sign(with: ecKeys, kid: "ec-1")), verifier: "jwks")
        // Right key material, wrong kid: the kid's algorithm does not match the header.
        let mislabelled = await JWTKeyCollection().add(eddsa: EdDSA.PrivateKey(backing: ed), kid: "ec-1")
        expectRejected(await outcome(verifier, try await sign(with: mislabelled, kid: "ec-1")), .algorithm)
        let unknown = await JWTKeyCollection().add(eddsa: EdDSA.PrivateKey(backing: ed), kid: "nope")
        expectRejected(await outcome(verifier, try await sign(with: unknown, kid: "nope")), .unknownKey)
        // No kid and no PEM key: nothing to select.
        let noKID = await JWTKeyCollection().add(eddsa: EdDSA.PrivateKey(backing: ed))
        expectRejected(await outcome(verifier, try await sign(with: noKID)), .algorithm)
    }

    @Test func unusableKeyFilesStopStartup() async throws {
        await #expect(throws: SettingsError.self) {
            _ = try await verifier(CallerSettings(publicKeyFile: try writeTemporary("not a key")))
        }
        await #expect(throws: SettingsError.self) {
            _ = try await verifier(CallerSettings(publicKeyFile: "/nonexistent/key.pem"))
        }
        await #expect(throws: SettingsError.self) {
            _ = try await verifier(CallerSettings(jwksFile: try writeTemporary(#"{"keys":[]}"#)))
        }
    }
}
