import Foundation
import Testing
import TokenMintTesting

/// Cluster mode with real processes on loopback: three primaries made with `redis-cli --cluster create`
/// (``RedisClusterTopology``), three `tokenmint` replicas under load. Serialized: the timings need the cores.
@Suite(.serialized) struct RedisClusterTests {
    /// `REDIS_URL` names a node that does not own the keys' slot: the fleet follows `MOVED` and cold-starts with one
    /// mint. The slot is then moved to the third node (`SETSLOT` + `MIGRATE`) while the fleet serves: no request
    /// fails, and the window's refresh follows `MOVED` to the new owner, which holds the one token the fleet shares.
    @Test(.timeLimit(.minutes(2)))
    func theFleetFollowsTheSlotAcrossAReshard() async throws {
        let cluster = try await RedisClusterTopology()
        let key = RedisFleetTests.tokenKey
        let owner = try cluster.owner(of: key)
        let others = cluster.nodes.filter { $0 !== owner }
        let seed = others[0]
        let target = others[1]
        let fleet = try await Replica.fleet(
            3,
            redisURL: seed.url,
            environment: RedisFleetTests.shortTTL.merging(["REDIS_CLUSTER": "true", "REDIS_HEALTH_CHECK_SECONDS": "1"])
            { _, new in new }
        )
        #expect(try await fleet.mintedTotal() == 1, "the fleet cold-started with one mint")
        let first = try #require(ServedToken(try await fleet[0].token().body))
        #expect(try owner.cli(["GET", key]) == first.compact)
        for replica in fleet {
            let (state, node) = try await replica.redisStateAndNode()
            #expect(state == "ok")
            #expect(node == "127.0.0.1:\(owner.port)", "the replica names the slot's node, not REDIS_URL's")
        }
        for replica in fleet {
            // Each replica's first GET went to REDIS_URL's node and was MOVED to the owner.
            #expect((try await replica.metric(#"tokenmint_redis_redirects_total{kind="moved"}"#) ?? 0) >= 1)
        }

        let load = Task { try await RedisFleetTests.load(fleet) }
        defer { load.cancel() }
        try await Task.sleep(for: .seconds(1))
        try cluster.moveSlot(of: key, from: owner, to: target)
        #expect(try target.cli(["GET", key]) == first.compact, "the token moved with its slot")

        let converged = try await Poll.until(timeout: .seconds(max(10, first.remaining())), every: .milliseconds(200)) {
            var tokens: Set<String> = []
            var nodes: Set<String?> = []
            for replica in fleet {
                tokens.insert(try await replica.token().body)
                nodes.insert(try await replica.redisStateAndNode().node)
            }
            let stored = try? target.cli(["GET", key])
            guard tokens.count == 1, let token = tokens.first else { return false }
            return token != first.compact && stored == token && nodes == ["127.0.0.1:\(target.port)"]
        }
        #expect(converged, "the fleet's next token was stored on the slot's new node and shared")
        load.cancel()
        let (requests, failures) = try await load.value
        #expect(requests > 100)
        #expect(failures == 0, "\(failures) of \(requests) requests failed")
        let minted = try await fleet.mintedTotal()
        #expect(minted == 2, "the cold start and the window's refresh: \(minted)")
        for replica in fleet {
            #expect(try await replica.redisState() == "ok")
        }
    }
}
