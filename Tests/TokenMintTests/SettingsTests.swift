import Foundation
import Testing

@testable import TokenMint

@Suite struct SettingsTests {
    static let valid: [String: String] = [
        "MIRO_CLIENT_ID": Fixtures.clientID,
        "MIRO_CLIENT_SECRET": Fixtures.clientSecret,
        "CALLER_JWT_HS256_SECRET": Fixtures.callerSecret,
    ]

    func load(_ changes: [String: String?]) throws -> Settings {
        var environment = Self.valid
        for (name, value) in changes { environment[name] = value }
        return try Settings.load(environment: environment)
    }

    func expectError(_ changes: [String: String?], variable: String, sourceLocation: SourceLocation = #_sourceLocation)
    {
        do {
            _ = try load(changes)
            Issue.record("expected \(variable) to be refused", sourceLocation: sourceLocation)
        } catch let error as SettingsError {
            #expect(error.variable == variable, sourceLocation: sourceLocation)
            // Never the secret's value in the message.
            #expect(!error.description.contains(Fixtures.clientSecret), sourceLocation: sourceLocation)
            #expect(!error.description.contains(Fixtures.callerSecret), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func defaults() throws {
        let settings = try load([:])
        #expect(settings.tokenTTLSeconds == 300)
        #expect(settings.minRemainingSeconds == 60)
        #expect(settings.host == "127.0.0.1")
        #expect(settings.port == 8080)
        #expect(settings.logFormat == .json)
        #expect(settings.corsAllowedOrigins.isEmpty)
        #expect(settings.caller.acceptMiroIDToken == false)
    }

    @Test func everySettingIsRead() throws {
        let settings = try load([
            "TOKEN_TTL_SECONDS": "86100", "TOKEN_MIN_REMAINING_SECONDS": "120", "HOST": "0.0.0.0", "PORT": "9000",
            "LOG_FORMAT": "text", "CORS_ALLOWED_ORIGINS": "https://a.example, http://localhost:3000",
            "CALLER_JWT_ISSUER": "https://site.example", "CALLER_JWT_AUDIENCE": "tokenmint",
            "CALLER_ACCEPT_MIRO_ID_TOKEN": "true",
        ])
        #expect(settings.tokenTTLSeconds == 86100)
        #expect(settings.minRemainingSeconds == 120)
        #expect(settings.host == "0.0.0.0")
        #expect(settings.port == 9000)
        #expect(settings.logFormat == .text)
        #expect(settings.corsAllowedOrigins == ["https://a.example", "http://localhost:3000"])
        #expect(settings.caller.issuer == "https://site.example")
        #expect(settings.caller.audience == "tokenmint")
        #expect(settings.caller.acceptMiroIDToken)
    }

    @Test func ttlLimits() {
        expectError(["TOKEN_TTL_SECONDS": "90000"], variable: "TOKEN_TTL_SECONDS")
        expectError(["TOKEN_TTL_SECONDS": "86101"], variable: "TOKEN_TTL_SECONDS")
        expectError(["TOKEN_TTL_SECONDS": "89"], variable: "TOKEN_TTL_SECONDS")  // min 60 + 30
        expectError(["TOKEN_TTL_SECONDS": "5m"], variable: "TOKEN_TTL_SECONDS")
        expectError(["TOKEN_TTL_SECONDS": "-1"], variable: "TOKEN_TTL_SECONDS")
        expectError(["TOKEN_MIN_REMAINING_SECONDS": "300"], variable: "TOKEN_TTL_SECONDS")
        #expect((try? load(["TOKEN_TTL_SECONDS": "90"])) != nil)
    }

    @Test func secretsRules() {
        expectError(["MIRO_CLIENT_ID": nil], variable: "MIRO_CLIENT_ID")
        expectError(["MIRO_CLIENT_SECRET": nil], variable: "MIRO_CLIENT_SECRET")
        expectError(["MIRO_CLIENT_SECRET": String(repeating: "s", count: 16)], variable: "MIRO_CLIENT_SECRET")
        expectError(["CALLER_JWT_HS256_SECRET": String(repeating: "s", count: 31)], variable: "CALLER_JWT_HS256_SECRET")
        expectError(["CALLER_JWT_HS256_SECRET": Fixtures.clientSecret], variable: "CALLER_JWT_HS256_SECRET")
        expectError(["CALLER_JWT_HS256_SECRET": nil], variable: "CALLER_JWT_HS256_SECRET")
        #expect((try? load(["CALLER_JWT_HS256_SECRET": nil, "CALLER_ACCEPT_MIRO_ID_TOKEN": "true"])) != nil)
    }

    @Test func otherRules() {
        expectError(["CORS_ALLOWED_ORIGINS": "*"], variable: "CORS_ALLOWED_ORIGINS")
        expectError(["CORS_ALLOWED_ORIGINS": "https://a.example/path"], variable: "CORS_ALLOWED_ORIGINS")
        expectError(["CORS_ALLOWED_ORIGINS": "site.example"], variable: "CORS_ALLOWED_ORIGINS")
        expectError(["LOG_FORMAT": "xml"], variable: "LOG_FORMAT")
        expectError(["PORT": "70000"], variable: "PORT")
        expectError(["CALLER_ACCEPT_MIRO_ID_TOKEN": "maybe"], variable: "CALLER_ACCEPT_MIRO_ID_TOKEN")
    }

    @Test func secretsFromFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let clientFile = directory.appendingPathComponent("client")
        try "  \(Fixtures.clientSecret)\n".write(to: clientFile, atomically: true, encoding: .utf8)

        let settings = try load(["MIRO_CLIENT_SECRET": nil, "MIRO_CLIENT_SECRET_FILE": clientFile.path])
        #expect(settings.clientSecret == Secret(Fixtures.clientSecret))

        expectError(["MIRO_CLIENT_SECRET_FILE": clientFile.path], variable: "MIRO_CLIENT_SECRET_FILE")
        expectError(
            ["MIRO_CLIENT_SECRET": nil, "MIRO_CLIENT_SECRET_FILE": directory.appendingPathComponent("nope").path],
            variable: "MIRO_CLIENT_SECRET_FILE"
        )
        let empty = directory.appendingPathComponent("empty")
        try "\n".write(to: empty, atomically: true, encoding: .utf8)
        expectError(
            ["MIRO_CLIENT_SECRET": nil, "MIRO_CLIENT_SECRET_FILE": empty.path],
            variable: "MIRO_CLIENT_SECRET_FILE"
        )
    }

    @Test func catalogListsEveryVariable() {
        let text = SettingsCatalog.text
        for name in [
            "MIRO_CLIENT_ID", "MIRO_CLIENT_SECRET", "TOKEN_TTL_SECONDS", "TOKEN_MIN_REMAINING_SECONDS",
            "CALLER_JWT_HS256_SECRET", "CALLER_JWT_PUBLIC_KEY_FILE", "CALLER_JWT_JWKS_FILE", "CALLER_JWT_ISSUER",
            "CALLER_JWT_AUDIENCE", "CALLER_ACCEPT_MIRO_ID_TOKEN", "CORS_ALLOWED_ORIGINS", "LOG_FORMAT", "HOST", "PORT",
        ] {
            #expect(text.contains(name), "\(name) missing from --help")
        }
    }
}
