import Crypto
import Foundation
import Logging
import Synchronization
import TokenMint
import TokenMintServer

/// A real tokenmint on an ephemeral loopback port, for tests that speak HTTP over a socket.
struct LiveServer: Sendable {
    static let clientID = "3458764500000000001"
    static let clientSecret = "client-secret-0123456789abcdef-0123456789"
    static let callerSecret = String(repeating: "c", count: 64)

    let application: TokenMintApplication
    let port: Int
    /// Seconds added to the real clock, so a test can age the served token.
    let clockOffset: Clock

    var client: RawHTTPClient { RawHTTPClient(port: port) }

    final class Clock: Sendable {
        private let offset = Mutex<Double>(0)
        func advance(by seconds: Double) { offset.withLock { $0 += seconds } }
        func now() -> Double { UnixTime.now() + offset.withLock { $0 } }
    }

    static func settings(
        caller: CallerSettings = CallerSettings(hmacSecret: Secret(callerSecret)),
        origins: [String] = ["https://site.example"]
    ) -> Settings {
        Settings(
            clientID: clientID, clientSecret: Secret(clientSecret), caller: caller, corsAllowedOrigins: origins,
            port: 0)
    }

    static func start(_ settings: Settings = settings()) async throws -> LiveServer {
        let clock = Clock()
        var logger = Logger(label: "tokenmint-test")
        logger.logLevel = .warning
        let application = try await TokenMintApplication.build(
            settings: settings, logger: logger, now: { clock.now() })
        let port = try await application.server.start()
        return LiveServer(application: application, port: port, clockOffset: clock)
    }

    func stop() async {
        await application.server.drain()
    }

    /// A valid caller token for the configured HS secret.
    static func callerToken(sub: String = "user-1", lifetime: Int = 600, iss: String? = nil, aud: String? = nil) -> String {
        CallerTokenIssuer(secret: Secret(callerSecret)).issue(
            subject: sub, now: Date().timeIntervalSince1970, lifetime: lifetime, issuer: iss, audience: aud)
    }

    static func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }
}

/// Independent JWT helpers: Foundation base64 and swift-crypto, not the code under test.
enum JWTText {
    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ segment: some StringProtocol) -> Data? {
        var base64 = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    static func claims(_ token: String) -> [String: Any]? {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let data = decode(parts[1]) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    static func sign(header: String, claims: String, secret: String, sha512: Bool = false, sha256Over512: Bool = false)
        -> String
    {
        let input = base64URL(Array(header.utf8)) + "." + base64URL(Array(claims.utf8))
        let key = SymmetricKey(data: Array(secret.utf8))
        let mac: [UInt8] =
            sha512
            ? Array(HMAC<SHA512>.authenticationCode(for: Array(input.utf8), using: key))
            : Array(HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: key))
        return input + "." + base64URL(mac)
    }
}
