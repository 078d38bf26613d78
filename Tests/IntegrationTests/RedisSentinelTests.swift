import Foundation
import Testing
import TokenMintTesting

/// Sentinel mode with real processes on loopback: a primary, its replica and three `redis-sentinel`s
/// (``RedisSentinelTopology``), three `tokenmint` replicas under load. Serialized: the timings need the cores.
@Suite(.serialized) struct RedisSentinelTests {
    static func environment(_ topology: RedisSentinelTopology) -> [String: String] {
        RedisFleetTests.shortTTL.merging([
            "REDIS_SENTINELS": topology.sentinelsSetting,
            "REDIS_SENTINEL_MASTER": RedisSentinelTopology.masterName,
            "REDIS_HEALTH_CHECK_SECONDS": "1",
        ]) { _, new in new }
    }

    /// The primary is SIGKILLed while the fleet serves: the sentinels promote the replica, every replica notices
    /// through its health check and reports `redis: ok` on the new primary within 30 s, no request fails, and the
    /// fleet's next token is minted once, through the new primary, and shared by all (at most one extra mint for
    /// the failover). Prints the measured timeline.
    @Test(.timeLimit(.minutes(2)))
    func aKilledPrimaryIsReplacedWhileTheFleetServes() async throws {
        let topology = try await RedisSentinelTopology()
        let primary = "127.0.0.1:\(topology.primary.port)"
        let promoted = "127.0.0.1:\(topology.replica.port)"
        let fleet = try await Replica.fleet(3, redisURL: nil, environment: Self.environment(topology))
        for replica in fleet {
            let (state, node) = try await replica.redisStateAndNode()
            #expect(state == "ok")
            #expect(node == primary)
        }
        #expect(try await fleet.mintedTotal() == 1, "the fleet cold-started with one mint")
        let first = try #require(ServedToken(try await fleet[0].token().body))

        let load = Task { try await RedisFleetTests.load(fleet) }
        defer { load.cancel() }
        try await Task.sleep(for: .seconds(1))

        let servedBeforeKill = try await fleet.requestsServed()
        let killed = ContinuousClock.now
        topology.primary.kill()
        var detected: [Duration?] = Array(repeating: nil, count: fleet.count)
        var reconnected: [Duration?] = Array(repeating: nil, count: fleet.count)
        _ = try await Poll.until(deadline: killed + .seconds(30), every: .milliseconds(100)) {
            for (index, replica) in fleet.enumerated() where reconnected[index] == nil {
                let (state, node) = try await replica.redisStateAndNode()
                let now = ContinuousClock.now - killed
                if detected[index] == nil, state != "ok" || node != primary { detected[index] = now }
                if state == "ok", node == promoted { reconnected[index] = now }
            }
            return !reconnected.contains { $0 == nil }
        }
        #expect(!reconnected.contains { $0 == nil }, "every replica reports redis ok on \(promoted) within 30 s")
        #expect(topology.namedPrimaryPort() == topology.replica.port, "the sentinels promoted the replica")
        let servedDuringFailover = try await fleet.requestsServed() - servedBeforeKill

        // The window's refresh goes through the new primary: one token for the fleet, stored there.
        var converged: Duration?
        var shared: String?
        _ = try await Poll.until(timeout: .seconds(max(10, first.remaining())), every: .milliseconds(200)) {
            var tokens: Set<String> = []
            for replica in fleet { tokens.insert(try await replica.token().body) }
            let stored = try? topology.replica.cli(["GET", RedisFleetTests.tokenKey])
            guard tokens.count == 1, let token = tokens.first, token != first.compact, stored == token else {
                return false
            }
            converged = ContinuousClock.now - killed
            shared = token
            return true
        }
        #expect(converged != nil, "the fleet converged on one token stored on the new primary")
        load.cancel()
        let (requests, failures) = try await load.value
        #expect(requests > 100)
        #expect(failures == 0, "\(failures) of \(requests) requests failed")
        let minted = try await fleet.mintedTotal()
        #expect(minted <= 3, "the cold start, the window's refresh and at most one extra for the failover: \(minted)")
        for replica in fleet {
            #expect((try await replica.metric("tokenmint_redis_failovers_total") ?? 0) >= 1)
            #expect(try await replica.redisStateAndNode().node == promoted)
        }
        let commands = try await fleet[0].metric("tokenmint_redis_commands_total") ?? 0
        print(
            """
            sentinel failover timeline (from SIGKILL of the primary): \
            detected \(detected.map { $0.map(Self.seconds) ?? "never" }), \
            reconnected to the promoted replica \(reconnected.map { $0.map(Self.seconds) ?? "never" }), \
            converged on one new token \(converged.map(Self.seconds) ?? "never"); \
            requests \(requests) (\(servedDuringFailover) tokens served from the SIGKILL until all reconnected), \
            failed \(failures), minted \(minted), shared token \(shared.map { String($0.suffix(8)) } ?? "none"), \
            redis commands of replica 1 \(Int(commands))
            """
        )
    }

    /// The sentinels and the data nodes each have their own password (`REDIS_SENTINEL_PASSWORD_FILE`,
    /// `REDIS_PASSWORD`). A wrong sentinel password leaves a replica degraded but serving, naming no node, and never
    /// logging the password.
    @Test(.timeLimit(.minutes(1)))
    func sentinelsAndThePrimaryEachHaveTheirOwnPassword() async throws {
        let topology = try await RedisSentinelTopology(
            password: "primary-password-1234",
            sentinelPassword: "sentinel-password-5678"
        )
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-sentinel-pw-\(UUID())")
        try "sentinel-password-5678\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        var environment = Self.environment(topology)
        environment["REDIS_PASSWORD"] = "primary-password-1234"
        environment["REDIS_SENTINEL_PASSWORD_FILE"] = file.path
        let replica = try await Replica.one(redisURL: nil, environment: environment)
        let (state, node) = try await replica.redisStateAndNode()
        #expect(state == "ok")
        #expect(node == "127.0.0.1:\(topology.primary.port)")
        #expect(try await replica.token().status == 200)

        environment["REDIS_SENTINEL_PASSWORD_FILE"] = nil
        environment["REDIS_SENTINEL_PASSWORD"] = "wrong-password-0000"
        let refused = try await Replica.one(redisURL: nil, environment: environment)
        let (refusedState, refusedNode) = try await refused.redisStateAndNode()
        #expect(refusedState == "degraded")
        #expect(refusedNode == "none")
        #expect(try await refused.token().status == 200, "degraded, still serving")
        let output = refused.process.stdout + refused.process.stderr
        #expect(output.contains("no sentinel named a primary"), "\(output)")
        #expect(!output.contains("wrong-password") && !output.contains("primary-password"))
    }

    /// `REDIS_SENTINEL_TLS=true`: the sentinels and the primary over TLS, verified against `REDIS_TLS_CA_FILE`;
    /// after the primary's SIGKILL the replica moves to the promoted one, over TLS too.
    @Test(.timeLimit(.minutes(1)))
    func sentinelsAndPrimaryOverTLS() async throws {
        let certificates = try TLSCertificates()
        let topology = try await RedisSentinelTopology(certificates: certificates)
        var environment = Self.environment(topology)
        environment["REDIS_SENTINEL_TLS"] = "true"
        environment["REDIS_TLS_CA_FILE"] = certificates.caFile
        let replica = try await Replica.one(redisURL: nil, environment: environment)
        let (state, node) = try await replica.redisStateAndNode()
        #expect(state == "ok")
        #expect(node == "127.0.0.1:\(topology.primary.port)")

        topology.primary.kill()
        let promoted = "127.0.0.1:\(topology.replica.port)"
        let moved = try await Poll.until(timeout: .seconds(30), every: .milliseconds(100)) {
            let (state, node) = try await replica.redisStateAndNode()
            return state == "ok" && node == promoted
        }
        #expect(moved, "ok on the promoted replica over TLS within 30 s")
        #expect(try await replica.token().status == 200)
    }

    /// A graceful failover (`SENTINEL FAILOVER`): the old primary stays up, as a replica. Redis 7 closes its clients'
    /// connections when it is demoted, so the replica loses the node and asks the sentinels again: at its next health
    /// check, or without one (`REDIS_HEALTH_CHECK_SECONDS=0`) at its next refresh, which is degraded for one backoff
    /// before the replica is `ok` on the new primary. (A demoted node answering `-READONLY` or a `ROLE` of `slave` on a
    /// connection that survived is handled the same way; ``SentinelResolutionStateMachineTests`` covers those replies.)
    @Test(.timeLimit(.minutes(1)), arguments: [true, false])
    func aGracefulFailoverIsFollowed(healthCheck: Bool) async throws {
        let topology = try await RedisSentinelTopology()
        var environment = Self.environment(topology)
        environment["REDIS_HEALTH_CHECK_SECONDS"] = healthCheck ? "1" : "0"
        let replica = try await Replica.one(redisURL: nil, environment: environment)
        #expect(try await replica.redisStateAndNode().node == "127.0.0.1:\(topology.primary.port)")
        let first = try #require(ServedToken(try await replica.token().body))

        _ = try topology.sentinelCLI(
            topology.sentinelPorts[0],
            ["SENTINEL", "FAILOVER", RedisSentinelTopology.masterName]
        )
        let promoted = "127.0.0.1:\(topology.replica.port)"
        // With the health check, within seconds; without, after the window's refresh point (12.5-15.5 s of life left).
        let timeout = Duration.seconds(healthCheck ? 20 : max(5, first.remaining() - 5) + 10)
        let moved = try await Poll.until(timeout: timeout, every: .milliseconds(200)) {
            let (state, node) = try await replica.redisStateAndNode()
            return state == "ok" && node == promoted
        }
        #expect(moved, "ok on the promoted replica")
        #expect(topology.namedPrimaryPort() == topology.replica.port)
        #expect((try await replica.metric("tokenmint_redis_failovers_total") ?? 0) == 1)
        #expect(try await replica.token().status == 200)
        let output = replica.process.stdout + replica.process.stderr
        let redisLines = output.split(separator: "\n").filter { $0.contains("redis") }.joined(separator: "\n")
        #expect(output.contains("redis: lost the primary; asking the sentinels again"), "\(redisLines)")
        #expect(output.contains("redis: failover, the sentinels name a new primary"), "\(redisLines)")
        if healthCheck {
            #expect(!output.contains("minted locally"), "noticed before any refresh needed Redis: \(redisLines)")
        }
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}
