import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TokenMint
import TokenMintServer
import TokenMintTesting

/// A real tokenmint on an ephemeral loopback port, for tests that speak HTTP over a socket.
///
/// Each on an event loop of its own, not the shared singleton: a test that floods its server (the never-reading
/// client) keeps that loop busy for seconds in a debug build, and another test's connection on the same loop would
/// see its idle timer fire before its pending request is read.
struct LiveServer: Sendable {
    static let clientID = TestSecrets.clientID
    static let clientSecret = TestSecrets.clientSecret
    /// 64 bytes, so the live server accepts HS512 callers too.
    static let callerSecret = TestSecrets.longCallerSecret

    let application: TokenMintApplication
    let group: MultiThreadedEventLoopGroup
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
            clientID: clientID,
            clientSecret: Secret(clientSecret),
            caller: caller,
            corsAllowedOrigins: origins,
            port: 0
        )
    }

    static func start(
        _ settings: Settings = settings(),
        idleTimeout: TimeAmount = HTTPServer.idleTimeout
    ) async throws -> LiveServer {
        let clock = Clock()
        var logger = Logger(label: "tokenmint-test")
        logger.logLevel = .warning
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let application: TokenMintApplication
        let port: Int
        do {
            application = try await TokenMintApplication.build(
                settings: settings,
                logger: logger,
                group: group,
                idleTimeout: idleTimeout,
                now: { clock.now() }
            )
            port = try await application.server.start()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        return LiveServer(application: application, group: group, port: port, clockOffset: clock)
    }

    func stop() async {
        await application.server.drain()
        try? await group.shutdownGracefully()
    }

    /// A valid caller token for the configured HS secret.
    static func callerToken(
        sub: String = "user-1",
        lifetime: Int = 600,
        iss: String? = nil,
        aud: String? = nil
    ) -> String {
        CallerTokenIssuer(secret: Secret(callerSecret)).issue(
            subject: sub,
            now: Date().timeIntervalSince1970,
            lifetime: lifetime,
            issuer: iss,
            audience: aud
        )
    }

    static func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }
}
