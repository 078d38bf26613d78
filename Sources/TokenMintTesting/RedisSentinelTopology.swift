import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A Sentinel-managed Redis for one test, all real processes on loopback: a primary, one replica of it, and three
/// `redis-sentinel` processes monitoring it as ``masterName`` with a short `down-after-milliseconds`, so killing the
/// primary promotes the replica within seconds. Everything is killed (and its directory removed) when the test lets
/// go of it.
public final class RedisSentinelTopology: @unchecked Sendable {
    public static let masterName = "mymaster"
    static let sentinelBinary = "/usr/bin/redis-sentinel"

    /// The primary at start; after a failover, the replica is.
    public let primary: RedisServer
    public let replica: RedisServer
    public let sentinelPorts: [Int]
    /// `requirepass` of the sentinels (`REDIS_SENTINEL_PASSWORD`); the data nodes' is ``RedisServer/password``.
    public let sentinelPassword: String?
    /// TLS everywhere (`--tls-port` only, `tls-replication yes`): the data nodes, the sentinels, between them.
    public let tls: RedisServer.TLS?
    let directory: URL
    private var sentinels: [Process] = []

    /// `REDIS_SENTINELS` for tokenmint.
    public var sentinelsSetting: String { sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    /// - Parameters:
    ///   - downAfterMilliseconds: how long the primary must be unreachable before the sentinels call it down.
    ///   - password: `requirepass` (and `masterauth`) of the primary and the replica.
    ///   - sentinelPassword: `requirepass` of the sentinels.
    ///   - certificates: TLS for every process and every link between them, with these certificates.
    public init(
        downAfterMilliseconds: Int = 1000,
        password: String? = nil,
        sentinelPassword: String? = nil,
        certificates: TLSCertificates? = nil
    ) async throws {
        self.sentinelPassword = sentinelPassword
        let tls = certificates.map { RedisServer.TLS(certificates: $0) }
        self.tls = tls
        let tlsReplication = tls == nil ? [] : ["--tls-replication", "yes"]
        primary = try await RedisServer(password: password, tls: tls, arguments: tlsReplication)
        replica = try await RedisServer(
            password: password,
            tls: tls,
            arguments: tlsReplication + ["--replicaof", "127.0.0.1", "\(primary.port)"]
        )
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-sentinel-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        sentinelPorts = try (0..<3).map { _ in try LoopbackPorts.reserve() }
        for (index, port) in sentinelPorts.enumerated() {
            let config = directory.appendingPathComponent("sentinel-\(index).conf")
            var text = """
                port \(certificates == nil ? port : 0)
                bind 127.0.0.1
                daemonize no
                protected-mode no
                dir \(directory.path)
                sentinel monitor \(Self.masterName) 127.0.0.1 \(primary.port) 2
                sentinel down-after-milliseconds \(Self.masterName) \(downAfterMilliseconds)
                sentinel failover-timeout \(Self.masterName) 10000
                sentinel parallel-syncs \(Self.masterName) 1

                """
            if let password { text += "sentinel auth-pass \(Self.masterName) \(password)\n" }
            if let sentinelPassword { text += "requirepass \(sentinelPassword)\n" }
            if let certificates {
                text += """
                    tls-port \(port)
                    tls-cert-file \(certificates.serverCertificateFile)
                    tls-key-file \(certificates.serverKeyFile)
                    tls-ca-cert-file \(certificates.caFile)
                    tls-auth-clients no
                    tls-replication yes

                    """
            }
            try text.write(to: config, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.sentinelBinary)
            process.arguments = [config.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            sentinels.append(process)
        }
        try await waitUntilReady()
    }

    deinit {
        for process in sentinels where process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Bounded (20 s): the replica is in sync, and every sentinel knows the primary, the replica and a quorum of the
    /// others (`SENTINEL ckquorum`), so a failover can happen.
    private func waitUntilReady() async throws {
        guard try await Poll.until(timeout: .seconds(20), every: .milliseconds(200), { try isReady() }) else {
            throw RedisServer.Failure(description: "the sentinels did not see the primary, the replica and each other")
        }
    }

    private func isReady() throws -> Bool {
        guard (try? replica.cli(["INFO", "replication"]))?.contains("master_link_status:up") == true else {
            return false
        }
        for port in sentinelPorts {
            guard let quorum = try? sentinelCLI(port, ["SENTINEL", "ckquorum", Self.masterName]),
                quorum.hasPrefix("OK 3"),
                let master = try? sentinelCLI(port, ["SENTINEL", "master", Self.masterName])
            else { return false }
            let lines = master.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let index = lines.firstIndex(of: "num-slaves"), index + 1 < lines.count, lines[index + 1] == "1"
            else { return false }
        }
        return true
    }

    /// The port of the primary the sentinels name now (from the first sentinel that answers), or nil.
    public func namedPrimaryPort() -> Int? {
        for port in sentinelPorts {
            guard let answer = try? sentinelCLI(port, ["SENTINEL", "get-master-addr-by-name", Self.masterName])
            else { continue }
            let lines = answer.split(separator: "\n")
            if lines.count == 2, let named = Int(lines[1]) { return named }
        }
        return nil
    }

    /// `redis-cli` against one sentinel, with the sentinels' password.
    public func sentinelCLI(_ port: Int, _ arguments: [String]) throws -> String {
        try RedisServer.cli(port: port, password: sentinelPassword, tls: tls, arguments)
    }
}
