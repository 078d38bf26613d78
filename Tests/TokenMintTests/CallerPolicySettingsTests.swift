import Foundation
import Testing

@testable import TokenMint

/// The strict caller policy's settings: what stops startup, and with which variable named.
@Suite struct CallerPolicySettingsTests {
    static let base: [String: String] = [
        "MIRO_CLIENT_ID": Fixtures.clientID,
        "MIRO_CLIENT_SECRET": Fixtures.clientSecret,
    ]

    func load(_ changes: [String: String]) throws -> Settings {
        try Settings.load(environment: Self.base.merging(changes) { _, new in new })
    }

    func expectError(_ changes: [String: String], variable: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) {
            _ = try load(changes)
        } throws: { error in
            (error as? SettingsError)?.variable == variable
        }
    }

    @Test func audienceIsRequiredWithEveryPublicKeyVerifier() throws {
        for source in [
            ["CALLER_JWT_PUBLIC_KEY_FILE": "/k.pem"], ["CALLER_JWT_JWKS_FILE": "/k.json"],
            ["CALLER_JWT_JWKS_URL": "https://idp.example/.well-known/jwks.json"],
            ["CALLER_JWT_DISCOVERY": "true", "CALLER_JWT_ISSUER": "https://idp.example/"],
        ] {
            expectError(source, variable: "CALLER_JWT_AUDIENCE")
            let withAudience = try load(source.merging(["CALLER_JWT_AUDIENCE": "api://tokenmint"]) { $1 })
            #expect(withAudience.caller.audience == "api://tokenmint")
            let optedOut = try load(source.merging(["CALLER_JWT_ALLOW_ANY_AUDIENCE": "true"]) { $1 })
            #expect(optedOut.caller.allowAnyAudience)
        }
        // A shared secret is the site's own: no audience needed.
        #expect(try load(["CALLER_JWT_HS256_SECRET": Fixtures.callerSecret]).caller.audience == nil)
        expectError(
            ["CALLER_JWT_PUBLIC_KEY_FILE": "/k.pem", "CALLER_JWT_ALLOW_ANY_AUDIENCE": "maybe"],
            variable: "CALLER_JWT_ALLOW_ANY_AUDIENCE"
        )
    }

    @Test func lifetimeAndTypes() throws {
        let secret = ["CALLER_JWT_HS256_SECRET": Fixtures.callerSecret]
        #expect(try load(secret).caller.maxLifetimeSeconds == 86_400)
        #expect(try load(secret).caller.types == nil)
        let set = try load(
            secret.merging(["CALLER_JWT_MAX_LIFETIME_SECONDS": "3600", "CALLER_JWT_TYPES": "JWT, at+jwt"]) {
                $1
            }
        )
        #expect(set.caller.maxLifetimeSeconds == 3600)
        #expect(set.caller.types == CallerTokenTypes(list: "jwt,application/AT+JWT"))
        expectError(
            secret.merging(["CALLER_JWT_MAX_LIFETIME_SECONDS": "0"]) { $1 },
            variable: "CALLER_JWT_MAX_LIFETIME_SECONDS"
        )
        expectError(
            secret.merging(["CALLER_JWT_MAX_LIFETIME_SECONDS": "1e300"]) { $1 },
            variable: "CALLER_JWT_MAX_LIFETIME_SECONDS"
        )
        expectError(secret.merging(["CALLER_JWT_TYPES": ","]) { $1 }, variable: "CALLER_JWT_TYPES")
        expectError(secret.merging(["CALLER_JWT_TYPES": "JWT,\"x\""]) { $1 }, variable: "CALLER_JWT_TYPES")
    }

    @Test func fetchedKeySettings() throws {
        let audience = ["CALLER_JWT_AUDIENCE": "tm"]
        let url = try load(audience.merging(["CALLER_JWT_JWKS_URL": "https://idp.example/jwks"]) { $1 })
        #expect(url.caller.jwksURL == "https://idp.example/jwks")
        #expect(url.caller.jwksRefreshSeconds == 300)
        #expect(url.caller.fetchesKeys)
        // http:// only on loopback, where no network lies between.
        #expect(
            try load(audience.merging(["CALLER_JWT_JWKS_URL": "http://127.0.0.1:9/jwks"]) { $1 }).caller.fetchesKeys
        )
        #expect(try load(audience.merging(["CALLER_JWT_JWKS_URL": "http://localhost/jwks"]) { $1 }).caller.fetchesKeys)
        for bad in [
            "http://idp.example/jwks", "ftp://idp.example/jwks", "https://user:pw@idp.example/jwks", "jwks.json",
            "https:///jwks", "http://127.0.0.1.example/jwks",
        ] {
            expectError(audience.merging(["CALLER_JWT_JWKS_URL": bad]) { $1 }, variable: "CALLER_JWT_JWKS_URL")
        }
        let jwks = audience.merging(["CALLER_JWT_JWKS_URL": "https://idp.example/jwks"]) { $1 }
        expectError(jwks.merging(["CALLER_JWT_JWKS_FILE": "/k.json"]) { $1 }, variable: "CALLER_JWT_JWKS_URL")
        expectError(
            jwks.merging(["CALLER_JWT_JWKS_REFRESH_SECONDS": "1"]) { $1 },
            variable: "CALLER_JWT_JWKS_REFRESH_SECONDS"
        )
        #expect(try load(jwks.merging(["CALLER_JWT_JWKS_REFRESH_SECONDS": "5"]) { $1 }).caller.jwksRefreshSeconds == 5)
        expectError(
            ["CALLER_JWT_HS256_SECRET": Fixtures.callerSecret, "CALLER_JWT_CA_FILE": "/ca.pem"],
            variable: "CALLER_JWT_CA_FILE"
        )

        expectError(audience.merging(["CALLER_JWT_DISCOVERY": "true"]) { $1 }, variable: "CALLER_JWT_DISCOVERY")
        expectError(
            audience.merging(["CALLER_JWT_DISCOVERY": "true", "CALLER_JWT_ISSUER": "idp.example"]) { $1 },
            variable: "CALLER_JWT_ISSUER"
        )
        expectError(
            jwks.merging(["CALLER_JWT_DISCOVERY": "true", "CALLER_JWT_ISSUER": "https://idp.example"]) { $1 },
            variable: "CALLER_JWT_DISCOVERY"
        )
        let discovery = try load(
            audience.merging(["CALLER_JWT_DISCOVERY": "true", "CALLER_JWT_ISSUER": "https://idp.example/tenant/"]) {
                $1
            }
        )
        #expect(discovery.caller.fetchesKeys)
        #expect(
            OIDCDiscoveryDocument.url(issuer: "https://idp.example/tenant/")
                == "https://idp.example/tenant/.well-known/openid-configuration"
        )
    }

    @Test func messagesNameTheVariableNeverTheValue() {
        let value = "https://secret-host.example/jwks"
        do {
            _ = try load(["CALLER_JWT_JWKS_URL": value])
            Issue.record("accepted")
        } catch {
            #expect("\(error)".hasPrefix("CALLER_JWT_AUDIENCE:"))
            #expect(!"\(error)".contains(value))
        }
    }
}
