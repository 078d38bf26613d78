import Foundation
import Testing
import TokenMintTesting

#if canImport(Glibc)
import Glibc
#endif

/// `docs/openapi.yaml` against the real binary: the description is valid OpenAPI 3.1 (`openapi-spec-validator`),
/// and schemathesis, with every check and nothing but the description and a valid caller token, finds no 5xx,
/// no answer the description does not allow and no crash.
///
/// Runs where both tools are installed for the `python3` on `PATH`, and always in CI (`CI=true`), where a missing
/// tool fails the test instead of skipping it. `.ci/run` installs them (`docs/requirements.txt`).
@Suite struct OpenAPITests {
    static let description = BrowserTests.repositoryRoot.appendingPathComponent("docs/openapi.yaml")
    static let allowedOrigin = "https://site.example"

    static var toolsInstalled: Bool {
        BrowserTests.exitStatus(of: ["python3", "-c", "import schemathesis, openapi_spec_validator"], timeout: 60) == 0
    }

    @Test(
        .enabled(
            if: BrowserTests.runsInCI || OpenAPITests.toolsInstalled,
            "needs python3 with schemathesis and openapi-spec-validator; always runs in CI"
        )
    )
    func theDescriptionIsValidOpenAPI() async throws {
        try #require(Self.toolsInstalled, "python3 -m pip install -r docs/requirements.txt")
        let result = try await Self.run(
            ["python3", "-m", "openapi_spec_validator", Self.description.path],
            timeout: .seconds(120)
        )
        #expect(result.status == 0, "openapi-spec-validator: \(result.output)")
        #expect(result.output.contains("OK"), "\(result.output)")
    }

    @Test(
        .enabled(
            if: BrowserTests.runsInCI || OpenAPITests.toolsInstalled,
            "needs python3 with schemathesis and openapi-spec-validator; always runs in CI"
        ),
        .timeLimit(.minutes(10))
    )
    func schemathesisFindsNothingAgainstTheRealBinary() async throws {
        try #require(Self.toolsInstalled, "python3 -m pip install -r docs/requirements.txt")
        var environment = TokenMintProcess.baseEnvironment
        environment["CORS_ALLOWED_ORIGINS"] = Self.allowedOrigin
        let server = try TokenMintProcess(environment: environment)
        let port = try await server.port()
        // Valid for the whole run: schemathesis' own `ignored_auth` check sends the forged and missing variants.
        let now = Int(Date().timeIntervalSince1970)
        let callerToken = JWTText.sign(
            header: #"{"alg":"HS256","typ":"JWT"}"#,
            claims: #"{"sub":"schemathesis","exp":\#(now + 1800)}"#,
            secret: TokenMintProcess.callerSecret
        )

        let workDirectory = server.directory.appendingPathComponent("schemathesis")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        let arguments = [
            "python3", "-m", "schemathesis.cli", "run", Self.description.path,
            "--url", "http://127.0.0.1:\(port)",
            "--header", "Authorization: Bearer \(callerToken)",
            "--checks", "all",
            "--max-examples", "100",
            "--seed", "20261201",
            "--workers", "1",
            "--request-timeout", "10",
            "--report", "junit",
            "--report-dir", workDirectory.path,
        ]
        let result = try await Self.run(arguments, timeout: .seconds(420), in: workDirectory)
        #expect(result.status == 0, "schemathesis exited \(result.status):\n\(result.output)")
        #expect(result.output.contains("No issues found"), "\(result.output)")
        #expect(server.process.isRunning, "tokenmint stopped during the run:\n\(server.stderr)")
        // The run reached the answers the checks are about: tokens, refused callers, refused methods.
        let metrics = try await RawHTTPClient(port: port).send("GET", "/metrics").body
        for (route, status) in [("/v1/token", 200), ("/v1/token", 401), ("/v1/token", 405), ("/v1/token", 204)] {
            let line = metrics.split(separator: "\n").first {
                $0.hasPrefix(#"tokenmint_http_requests_total{route="\#(route)",status="\#(status)"}"#)
            }
            #expect((line?.split(separator: " ").last.flatMap { Double($0) } ?? 0) > 0, "no \(status) on \(route)")
        }

        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
        #expect(!(server.stdout + server.stderr).contains(callerToken), "the caller token appeared in the logs")
    }

    struct Result {
        let status: Int32
        let output: String
    }

    /// Runs a command found on `PATH` with its output in a file, bounded: SIGKILL after `timeout` seconds. Waits
    /// with `Task.sleep`, so a long run holds none of the few threads the other tests run on.
    static func run(_ arguments: [String], timeout: Duration, in directory: URL? = nil) async throws -> Result {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-openapi-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        environment["NO_COLOR"] = "1"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return Result(status: timedOut ? -1 : process.terminationStatus, output: output)
    }
}
