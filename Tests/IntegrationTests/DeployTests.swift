import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `deploy/local/up` as an operator runs it: redis-server, three replicas and nginx in front, one shared token
/// through the load balancer (`deploy/local/test-local-stack.sh` does the checks and prints `N passed, M failed`).
@Suite(.serialized) struct DeployTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The stack needs redis-server and nginx. In CI it must run (and fail loudly when they are missing); elsewhere
    /// it runs when they are installed.
    static var enabled: Bool {
        ProcessInfo.processInfo.environment["CI"] == "true"
            || (FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server")
                && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx"))
    }

    @Test(.enabled(if: enabled), .timeLimit(.minutes(5)))
    func localStackServesOneSharedTokenBehindNginx() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", "deploy/local/test-local-stack.sh", TokenMintProcess.binary.path]
        process.currentDirectoryURL = Self.repository
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-stack-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()

        let deadline = ContinuousClock.now + .seconds(240)
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            try await Task.sleep(for: .seconds(5))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        try handle.close()
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "deploy/local/test-local-stack.sh failed:\n\(log)")
        #expect(log.contains(" passed, 0 failed"), "\(log)")
    }
}
