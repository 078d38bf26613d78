import Foundation
import Glibc
import Testing

@testable import TokenMintTesting

/// The test harness's ``RedisServer``: a start that cannot bind its port says so at once, so the first start can move
/// to another port instead of waiting out its timeout.
@Suite struct RedisServerTests {
    @Test(.timeLimit(.minutes(1)))
    func aStartOnATakenPortFailsAsPortTakenAndARestartAfterItIsFreedServes() async throws {
        let redis = try await RedisServer()
        redis.kill()
        let fd = try #require(LoopbackPorts.bindSocket(port: redis.port, listening: true))
        await #expect(throws: RedisServer.PortTaken.self) { try await redis.start() }
        close(fd)
        try await redis.start()
        #expect(try redis.cli(["PING"]) == "PONG")
    }

    @Test(.timeLimit(.minutes(1)))
    func aServerThatExitsBeforeAnsweringIsReportedAsExited() async throws {
        let redis = try await RedisServer()
        redis.kill()
        try FileManager.default.removeItem(at: redis.directory)
        let failure = await #expect(throws: RedisServer.Failure.self) { try await redis.start() }
        #expect(failure?.description.contains("exited") == true, "\(failure.map(String.init(describing:)) ?? "")")
    }
}
