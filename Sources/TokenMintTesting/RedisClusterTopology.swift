import Foundation

/// A Redis Cluster for one test: three primaries (no replicas) on loopback ports, made with
/// `redis-cli --cluster create`; every slot assigned. Nodes are ``RedisServer``s, killed when the test lets go.
public final class RedisClusterTopology: @unchecked Sendable {
    public let nodes: [RedisServer]

    public init() async throws {
        var nodes: [RedisServer] = []
        for _ in 0..<3 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-cluster-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            nodes.append(
                try await RedisServer(arguments: [
                    "--cluster-enabled", "yes", "--cluster-config-file",
                    directory.appendingPathComponent("nodes.conf").path, "--cluster-node-timeout", "2000",
                    // A bus port of its own: the default, the port + 10000, could fall in the kernel's range.
                    "--cluster-port", "\(try LoopbackPorts.reserve())",
                ])
            )
        }
        self.nodes = nodes
        try RedisServer.cli(
            port: nil,
            timeout: 30,
            ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-yes"]
        )
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if nodes.allSatisfy({ (try? $0.cli(["CLUSTER", "INFO"]))?.contains("cluster_state:ok") == true }) {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw RedisServer.Failure(description: "the cluster did not reach cluster_state:ok")
    }

    /// The node that owns `key`'s slot: the one that answers without `MOVED`.
    public func owner(of key: String) throws -> RedisServer {
        for node in nodes where !(try node.cli(["EXISTS", key])).hasPrefix("MOVED") {
            return node
        }
        throw RedisServer.Failure(description: "no node owns \(key)'s slot")
    }

    /// Moves `key`'s slot from `source` to `target` the way `redis-cli --cluster reshard` does: `IMPORTING` on the
    /// target, `MIGRATING` on the source, `MIGRATE` of every key in the slot, then `SETSLOT ... NODE` everywhere.
    public func moveSlot(of key: String, from source: RedisServer, to target: RedisServer) throws {
        let slot = try source.cli(["CLUSTER", "KEYSLOT", key])
        let sourceID = try source.cli(["CLUSTER", "MYID"])
        let targetID = try target.cli(["CLUSTER", "MYID"])
        try target.cli(["CLUSTER", "SETSLOT", slot, "IMPORTING", sourceID])
        try source.cli(["CLUSTER", "SETSLOT", slot, "MIGRATING", targetID])
        let keys = try source.cli(["CLUSTER", "GETKEYSINSLOT", slot, "100"]).split(separator: "\n").map(String.init)
        if !keys.isEmpty, !keys[0].isEmpty {
            // Generous bounds: on a loaded CI machine (suites in parallel, a fleet under load) starting redis-cli
            // and the node-to-node transfer once took more than 5 s.
            let answer = try source.cli(
                ["MIGRATE", "127.0.0.1", "\(target.port)", "", "0", "15000", "KEYS"] + keys,
                timeout: 20
            )
            guard answer == "OK" else { throw RedisServer.Failure(description: "MIGRATE answered \(answer)") }
        }
        for node in [target, source] + nodes.filter({ $0 !== source && $0 !== target }) {
            try node.cli(["CLUSTER", "SETSLOT", slot, "NODE", targetID])
        }
    }
}
