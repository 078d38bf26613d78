import Logging
import NIOCore
import NIOPosix
import Testing
import TokenMint
import TokenMintTesting

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
        // The port is this server's: a second one on it is refused, naming the setting to fix, also when retried.
        let port = try #require(ports.first)
        let second = try await application(port: port, group: group).server
        for _ in 0..<2 {
            do {
                _ = try await second.start()
                Issue.record("a second server bound a port in use")
            } catch let error as HTTPServer.ListenError {
                #expect(error.variable == "PORT")
            }
        }
        // Two drains at once: both return once the socket is closed.
        async let first: Void = server.drain()
        async let again: Void = server.drain()
        _ = await (first, again)
        await #expect(throws: (any Error).self, "the drained server's port refuses connections") {
            _ = try await RawHTTPClient(port: port, timeoutSeconds: 2).send("GET", "/healthz")
        }
        // A drained server stays closed: starting it again is refused, and the port stays free.
        await #expect(throws: HTTPServer.Drained.self) { _ = try await server.start() }
        // A failed bind is not remembered: once the port is free, the second server takes it.
        #expect(try await second.start() == port)
        await second.drain()
        await #expect(throws: HTTPServer.Drained.self) { _ = try await second.start() }
        // A server drained before it ever listened does not listen afterwards either.
        let never = try await application(group: group).server
        await never.drain()
        await #expect(throws: HTTPServer.Drained.self) { _ = try await never.start() }
        try await group.shutdownGracefully()
    }

    /// A start and a drain at once: once both return, nothing listens, whether the start won (the drain closes its
    /// socket) or lost (it throws ``HTTPServer/Drained``). The losing interleaving that left a socket open (the drain
    /// passing between the start's check and its bind) is a window of a few instructions, so this rarely reaches
    /// it; `bind()` checks the drain state again under its lock for that case.
    @Test func aStartRacingADrainLeavesNothingListening() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        for _ in 0..<20 {
            let server = try await application(group: group).server
            async let started = try? server.start()
            async let drained: Void = server.drain()
            let (port, _) = await (started, drained)
            if let port {
                await #expect(throws: (any Error).self, "port \(port) still listens after the drain") {
                    _ = try await RawHTTPClient(port: port, timeoutSeconds: 2).send("GET", "/healthz")
                }
            }
            await #expect(throws: HTTPServer.Drained.self) { _ = try await server.start() }
        }
        try await group.shutdownGracefully()
    }
}
