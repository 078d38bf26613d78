import Foundation
import TokenMintTesting

#if canImport(Glibc)
import Glibc
#endif

/// The real `tokenmint` binary as a child process, with its output captured to files.
final class TokenMintProcess: @unchecked Sendable {
    static let clientID = TestSecrets.clientID
    static let clientSecret = TestSecrets.clientSecret
    static let callerSecret = TestSecrets.callerSecret

    static var baseEnvironment: [String: String] {
        [
            "MIRO_CLIENT_ID": clientID, "MIRO_CLIENT_SECRET": clientSecret,
            "CALLER_JWT_HS256_SECRET": callerSecret, "PORT": "0", "HOST": "127.0.0.1",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
    }

    /// The binary next to the test bundle (both are products of the same build), or `TOKENMINT_BINARY`.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["TOKENMINT_BINARY"] { return URL(fileURLWithPath: path) }
        return product(named: "tokenmint")
    }

    /// An executable product of the same build as the test bundle.
    static func product(named name: String) -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(
            ".build/debug/\(name)"
        )
    }

    let process = Process()
    let directory: URL
    var stdoutURL: URL { directory.appendingPathComponent("stdout") }
    var stderrURL: URL { directory.appendingPathComponent("stderr") }

    init(environment: [String: String], arguments: [String] = [], executable: URL = TokenMintProcess.binary) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-process-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("stdout").path, contents: nil)
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("stderr").path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    /// Waits, bounded, for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(20)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw Timeout(description: "process still running") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Waits, bounded, for the port in the JSON `listening` line.
    func port(timeout: Duration = .seconds(20)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for line in (stdout + stderr).split(separator: "\n") where line.contains("listening") {
                if let range = line.range(of: #":[0-9]+""#, options: .regularExpression)
                    ?? line.range(of: #":[0-9]+$"#, options: .regularExpression)
                {
                    let digits = line[range].filter(\.isNumber)
                    if let port = Int(digits) { return port }
                }
            }
            guard process.isRunning else { throw Timeout(description: "exited early: \(stderr)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Timeout(description: "no listening line in \(stdout) \(stderr)")
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }
}
