import Foundation
import Testing

/// `tokenmint-load` against a live `tokenmint`, both as real processes: the report must be honest about what it saw.
@Suite(.serialized) struct LoadDriverTests {
    /// The parts of the JSON report (`--json`) these tests read.
    struct Report: Decodable {
        struct Latency: Decodable {
            let count: Int
            let p50Micros: Int
            let p90Micros: Int
            let p99Micros: Int
            let p999Micros: Int
            let maxMicros: Int
        }

        let requests: Int
        let succeeded: Int
        let rejected: Int
        let errors: [String: Int]
        let violations: [String: Int]
        let distinctTokens: Int
        let tokenSignaturesChecked: Bool
        let latency: Latency
        let driverCpuMicrosPerRequest: Double
        let serverCpuMicrosPerRequest: Double?
        let passed: Bool
    }

    struct Run {
        let status: Int32
        let report: Report
        let stdout: String
    }

    private func runDriver(against port: Int, serverPID: Int32, extra: [String]) async throws -> Run {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-load-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let arguments =
            [
                "http://127.0.0.1:\(port)", "--duration", "2", "--warmup", "0.5", "--connections", "8", "--users",
                "500",
                "--caller-secret", TokenMintProcess.callerSecret, "--client-id", TokenMintProcess.clientID,
                "--server-pid", "\(serverPID)", "--json", json.path, "--quiet",
            ] + extra
        let driver = try TokenMintProcess(
            environment: TokenMintProcess.baseEnvironment,
            arguments: arguments,
            executable: TokenMintProcess.product(named: "tokenmint-load")
        )
        let status = try await driver.waitForExit(timeout: .seconds(60))
        let data = try Data(contentsOf: json)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return Run(status: status, report: try decoder.decode(Report.self, from: data), stdout: driver.stdout)
    }

    @Test(.timeLimit(.minutes(2)))
    func aShortRunAgainstALiveServerChecksEveryAnswer() async throws {
        let server = try TokenMintProcess(environment: TokenMintProcess.baseEnvironment)
        let port = try await server.port()
        let run = try await runDriver(
            against: port,
            serverPID: server.process.processIdentifier,
            extra: ["--client-secret", TokenMintProcess.clientSecret, "--bad-ratio", "0.1"]
        )
        let report = run.report
        #expect(run.status == 0, "\(run.stdout)")
        #expect(report.passed)
        #expect(report.requests > 0)
        #expect(report.succeeded > 0)
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect(report.violations.isEmpty, "\(report.violations)")
        #expect(report.distinctTokens == 1)
        #expect(report.tokenSignaturesChecked)
        // Bad callers were sent (one in ten) and every one of them was refused.
        #expect(report.rejected > 0)
        #expect(report.rejected <= report.requests / 5)
        let latency = report.latency
        #expect(latency.count == report.succeeded)
        #expect(latency.p50Micros > 0)
        #expect(latency.p50Micros <= latency.p90Micros)
        #expect(latency.p90Micros <= latency.p99Micros)
        #expect(latency.p99Micros <= latency.p999Micros)
        #expect(latency.p999Micros <= latency.maxMicros)
        #expect(report.driverCpuMicrosPerRequest > 0)
        #expect((report.serverCpuMicrosPerRequest ?? 0) > 0)
        #expect(run.stdout.split(separator: "\n").last?.hasPrefix("tokenmint-load: PASS") == true, "\(run.stdout)")
    }

    @Test(.timeLimit(.minutes(2)))
    func aWrongClientSecretFailsTheRun() async throws {
        let server = try TokenMintProcess(environment: TokenMintProcess.baseEnvironment)
        let port = try await server.port()
        let run = try await runDriver(
            against: port,
            serverPID: server.process.processIdentifier,
            extra: ["--client-secret", "not-the-client-secret-0123456789abcdef-0123"]
        )
        #expect(run.status == 1)
        #expect(!run.report.passed)
        #expect((run.report.violations["token_signature_invalid"] ?? 0) > 0, "\(run.report.violations)")
        #expect(run.stdout.split(separator: "\n").last?.hasPrefix("tokenmint-load: FAIL") == true, "\(run.stdout)")
    }

    @Test(.timeLimit(.minutes(2)))
    func aServerThatIsNotThereIsAClearErrorNotAMeasurement() async throws {
        let driver = try TokenMintProcess(
            environment: TokenMintProcess.baseEnvironment,
            arguments: ["http://127.0.0.1:9", "--caller-secret", TokenMintProcess.callerSecret, "--duration", "1"],
            executable: TokenMintProcess.product(named: "tokenmint-load")
        )
        #expect(try await driver.waitForExit() == 2)
        #expect(driver.stderr.hasPrefix("tokenmint-load: http://127.0.0.1:9: cannot connect"), "\(driver.stderr)")
    }
}
