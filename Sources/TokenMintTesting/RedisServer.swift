import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` for one test: a loopback port of its own (``LoopbackPorts``), a temporary directory, no
/// persistence; killed (and its directory removed) when the test lets go of it. Can be killed, restarted on the same
/// port, frozen and thawed.
/// With ``TLS``, it listens for TLS only (`--port 0 --tls-port`), with the test's certificates.
public final class RedisServer: @unchecked Sendable {
    public struct TLS: Sendable {
        public let certificates: TLSCertificates
        /// `--tls-auth-clients yes`: a client certificate signed by the CA is required.
        public let requireClientCertificates: Bool

        public init(certificates: TLSCertificates, requireClientCertificates: Bool = false) {
            self.certificates = certificates
            self.requireClientCertificates = requireClientCertificates
        }
    }

    static let serverBinary = "/usr/bin/redis-server"
    static let cliBinary = "/usr/bin/redis-cli"

    /// Fixed once the first start succeeds; a restart reuses it.
    public private(set) var port: Int
    public let password: String?
    public let tls: TLS?
    public let directory: URL
    /// More `redis-server` arguments (`--replicaof`, `--cluster-enabled yes`).
    public let extraArguments: [String]
    private var process: Process?

    public var url: String { "\(tls == nil ? "redis" : "rediss")://127.0.0.1:\(port)" }

    public init(password: String? = nil, tls: TLS? = nil, arguments: [String] = []) async throws {
        self.port = try LoopbackPorts.reserve()
        self.password = password
        self.tls = tls
        self.extraArguments = arguments
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-redis-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // A port checked free can still be taken before the server binds it (by another process on the machine):
        // then the server exits at once, and another port is tried, a bounded number of times.
        for attempt in 1...Self.portAttempts {
            do {
                try await start()
                return
            } catch is PortTaken where attempt < Self.portAttempts {
                port = try LoopbackPorts.reserve()
            }
        }
    }

    static let portAttempts = 3
    /// How long a start may take to answer PING; generous, as CI runs many servers at once on two cores.
    static let startTimeout = Duration.seconds(20)

    /// The server exited because a port it binds was in use; the last attempt's is what the test sees.
    struct PortTaken: Error, CustomStringConvertible {
        let description: String
    }

    var logFile: URL { directory.appendingPathComponent("redis-server.log") }

    deinit {
        if let process, process.isRunning {
            Glibc.kill(process.processIdentifier, SIGCONT)
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts (or restarts) the server on ``port`` and waits, bounded, until it answers PING.
    public func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.serverBinary)
        var arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--daemonize", "no", "--loglevel", "warning", "--logfile", logFile.path,
        ]
        if let tls {
            arguments[1] = "0"
            arguments += [
                "--tls-port", "\(port)", "--tls-cert-file", tls.certificates.serverCertificateFile,
                "--tls-key-file", tls.certificates.serverKeyFile, "--tls-ca-cert-file", tls.certificates.caFile,
                "--tls-auth-clients", tls.requireClientCertificates ? "yes" : "no",
            ]
        }
        if let password { arguments += ["--requirepass", password, "--masterauth", password] }
        process.arguments = arguments + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        // The log is appended to across restarts: only what this start writes is read back.
        let size = (try? FileManager.default.attributesOfItem(atPath: logFile.path))?[.size] as? NSNumber
        let logStart = size?.intValue ?? 0
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + Self.startTimeout
        while ContinuousClock.now < deadline {
            // A short PING timeout: a foreign listener on the port accepts and never answers.
            if (try? cli(["PING"], timeout: 1))?.contains("PONG") == true { return }
            if !process.isRunning {
                self.process = nil
                let log = logTail(from: logStart)
                if log.contains("Address already in use") {
                    throw PortTaken(description: "redis-server on \(port) could not bind: \(log)")
                }
                throw Failure(
                    description:
                        "redis-server on \(port) exited (\(process.terminationStatus)) before answering PING: \(log)"
                )
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(
            description:
                "redis-server on \(port) did not answer PING within \(Self.startTimeout): \(logTail(from: logStart))"
        )
    }

    /// The end of what the server logged from byte `offset` on, for a failure message.
    func logTail(from offset: Int) -> String {
        let data = (try? Data(contentsOf: logFile)) ?? Data()
        let text = String(decoding: data.dropFirst(offset), as: UTF8.self)
        return text.isEmpty ? "(nothing in its log)" : String(text.suffix(600))
    }

    /// SIGKILL: the server is gone, with everything it held.
    public func kill() {
        guard let process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// SIGSTOP: connections stay open and commands time out.
    public func freeze() { process.map { _ = Glibc.kill($0.processIdentifier, SIGSTOP) } }
    public func thaw() { process.map { _ = Glibc.kill($0.processIdentifier, SIGCONT) } }

    /// Runs `redis-cli` with the server's password; bounded by `timeout` (5 s unless a command needs longer).
    @discardableResult
    public func cli(_ arguments: [String], timeout: TimeInterval = 5) throws -> String {
        try Self.cli(port: port, password: password, tls: tls, timeout: timeout, arguments)
    }

    /// `redis-cli` against any loopback port (a sentinel, a cluster node); bounded by `timeout`.
    @discardableResult
    public static func cli(
        port: Int?,
        password: String? = nil,
        tls: TLS? = nil,
        timeout: TimeInterval = 5,
        _ arguments: [String]
    ) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.cliBinary)
        var all = port.map { ["-h", "127.0.0.1", "-p", "\($0)"] } ?? []
        if let tls {
            all += [
                "--tls", "--cacert", tls.certificates.caFile, "--cert", tls.certificates.clientCertificateFile,
                "--key", tls.certificates.clientKeyFile,
            ]
        }
        if let password { all += ["-a", password, "--no-auth-warning"] }
        process.arguments = all + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(5_000) }
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw Failure(description: "redis-cli \(arguments) timed out")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Total calls per command from `INFO commandstats` (`get`, `set`, `evalsha`, ...).
    public func commandCalls() throws -> [String: Int] {
        var calls: [String: Int] = [:]
        for line in try cli(["INFO", "commandstats"]).split(separator: "\n") where line.hasPrefix("cmdstat_") {
            let name = line.dropFirst("cmdstat_".count).prefix { $0 != ":" }
            if let range = line.range(of: "calls="), let value = Int(line[range.upperBound...].prefix { $0.isNumber }) {
                calls[String(name)] = value
            }
        }
        return calls
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }
}
