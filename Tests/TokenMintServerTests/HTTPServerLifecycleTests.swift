import Logging
import NIOCore
import NIOPosix
import Testing
import TokenMint

@testable import TokenMintServer

/// Binding and draining called more than once, or at once: one listening socket, one drain, clear errors.
@Suite struct HTTPServerLifecycleTests {
    func application(port: Int = 0, group: MultiThreadedEventLoopGroup) async throws -> TokenMintApplication {
        var settings = LiveServer.settings()
        settings.port = port
        var logger = Logger(label: "tokenmint-test")
        logger.logLevel = .critical
        return try await TokenMintApplication.build(settings: settings, logger: logger, group: group)
    }

    @Test func startsCalledAtOnceBindOneSocket() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await application(group: group).server
        let ports = try await withThrowingTaskGroup(of: Int.self) { tasks in
            for _ in 0..<4 { tasks.addTask { try await server.start() } }
            return try await tasks.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        #expect(ports.count == 1 && ports.first != 0, "\(ports)")
        #expect(try await server.start() == ports.first)
        // The port is this server's: a second one on it is refused, naming the setting to fix.
        let second = try await application(port: ports.first!, group: group).server
        await #expect(throws: HTTPServer.ListenError.self) { try await second.start() }
        do {
            _ = try await second.start()
        } catch let error as HTTPServer.ListenError {
            #expect(error.variable == "PORT", "a failed bind is tried again, and fails the same way")
        }
        await second.drain()
        // Two drains at once both return once the server is drained.
        async let first: Void = server.drain()
        async let again: Void = server.drain()
        _ = await (first, again)
        try await group.shutdownGracefully()
    }
}
