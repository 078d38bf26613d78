import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The BoardsPicker example in a real browser: `examples/boardspicker/test_browser.py` starts the built
/// `tokenmint`, the example site on an allowed and on a non-allowed origin, and walks the page through
/// headless Chromium (success with a verified token, CORS preflight, blocked origin, expired user token,
/// cancel, tokenmint down), saving a screenshot of each state under `.build/browser-test-output`.
///
/// Runs where Chromium, ChromeDriver and Selenium are installed, and always in CI (`CI=true`): there a
/// missing tool fails the test loudly instead of skipping it.
@Suite struct BrowserTests {
    /// The repository root: this file is `<root>/Tests/IntegrationTests/BrowserTests.swift`.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"
    static let timeout: Duration = .seconds(180)

    static var runsInCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    static var browserToolsInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: chromium)
            && FileManager.default.isExecutableFile(atPath: chromedriver)
            && exitStatus(of: ["python3", "-c", "import selenium"], timeout: 30) == 0
    }

    @Test(
        .enabled(
            if: BrowserTests.runsInCI || BrowserTests.browserToolsInstalled,
            "needs chromium, chromium-driver and python3 with selenium; always runs in CI"
        ),
        .timeLimit(.minutes(5))
    )
    func boardsPickerExampleInHeadlessChromium() async throws {
        // In CI the tools must be there: say which one is missing rather than letting the script fail later.
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.chromium),
            "\(Self.chromium) missing: apt-get install -y chromium"
        )
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.chromedriver),
            "\(Self.chromedriver) missing: apt-get install -y chromium-driver"
        )
        try #require(
            Self.exitStatus(of: ["python3", "-c", "import selenium"], timeout: 30) == 0,
            "python3 cannot import selenium: python3 -m pip install -r examples/boardspicker/requirements.txt"
        )

        let root = Self.repositoryRoot
        let output = root.appendingPathComponent(".build/browser-test-output")
        try? FileManager.default.removeItem(at: output)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let log = output.appendingPathComponent("test_browser.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)

        var environment = ProcessInfo.processInfo.environment
        environment["TOKENMINT_BINARY"] = TokenMintProcess.binary.path
        environment["BROWSER_TEST_OUTPUT"] = output.path
        environment["PYTHONUNBUFFERED"] = "1"

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("examples/boardspicker/test_browser.py").path]
        process.currentDirectoryURL = root
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let logHandle = try FileHandle(forWritingTo: log)
        defer { try? logHandle.close() }
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        // Whatever happens below (a timeout, a cancelled test), the script and what it started are stopped.
        defer { Self.stop(process) }

        let deadline = ContinuousClock.now + Self.timeout
        var timedOut = false
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                timedOut = true
                Self.stop(process)
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }

        let transcript = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(!timedOut, "test_browser.py did not finish within \(Self.timeout); output so far:\n\(transcript)")
        if !timedOut {
            #expect(
                process.terminationStatus == 0,
                "test_browser.py exited with status \(process.terminationStatus); screenshots and logs in \(output.path):\n\(transcript)"
            )
        }
        #expect(transcript.contains(" passed, 0 failed"), "no passing summary line:\n\(transcript)")
    }

    /// SIGTERM to the script (it stops tokenmint, the sites and the browser it started), then SIGKILL after a
    /// bounded grace period. Foundation starts the child in its own process group, so the group is signalled too.
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        kill(-pid, SIGTERM)
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            let killDeadline = Date().addingTimeInterval(5)
            while process.isRunning, Date() < killDeadline { Thread.sleep(forTimeInterval: 0.05) }
        }
    }

    /// The exit status of a short command found on `PATH`, or nil if it cannot start or outlives `timeout` seconds.
    static func exitStatus(of arguments: [String], timeout: TimeInterval) -> Int32? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return process.terminationStatus
    }
}
