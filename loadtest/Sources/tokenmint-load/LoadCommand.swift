import ArgumentParser
import Foundation
import TokenMintLoad

#if canImport(Glibc)
import Glibc
#endif

/// `tokenmint-load`: loads one or more tokenmint replicas (or a load balancer) the way a site's users would, checks
/// every answer and reports latency percentiles, throughput and who was the limit.
@main
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenmint-load",
        abstract: "Load tokenmint's POST /v1/token with a realistic caller population and check every answer.",
        discussion: """
            Closed loop by default (each connection sends again as soon as it is answered: measures capacity); \
            --rate R switches to an open loop at R requests/s, with latency counted from when each request was due. \
            Exit status: 0 pass, 1 the run failed (errors above --max-error-ratio, or any check violation), \
            2 bad options or a target that does not answer.
            """
    )

    @Argument(help: "Base URLs, e.g. http://127.0.0.1:8080 (several: connections are spread round-robin).")
    var targets: [String]

    @Option(name: .shortAndLong, help: "Keep-alive connections in all.")
    var connections = 64

    @Option(help: "Open loop: requests per second at constant pacing.")
    var rate: Double?

    @Option(name: .shortAndLong, help: "Measured seconds.")
    var duration = 10.0

    @Option(help: "Seconds of load before measuring (answers are still checked).")
    var warmup = 2.0

    @Option(help: "Event loop threads (default: one per core).")
    var threads: Int?

    @Option(help: "Seconds without an answer before a request counts as a timeout.")
    var timeout = 5.0

    @Option(help: "Distinct caller tokens, one per simulated user.")
    var users = 10_000

    @Option(help: "Caller HS256/384/512 secret (prefer --caller-secret-file: arguments are visible in ps).")
    var callerSecret: String?

    @Option(help: "File holding the caller secret (trailing newline ignored).")
    var callerSecretFile: String?

    @Option(help: "Caller token algorithm with a shared secret: HS256, HS384 or HS512.")
    var callerAlgorithm = "HS256"

    @Option(help: "PEM private key (EC P-256, Ed25519 or RSA) to sign caller tokens with instead of a secret.")
    var callerKey: String?

    @Option(help: "`kid` header for tokens signed with --caller-key (JWKS setups).")
    var callerKeyID: String?

    @Option(help: "`iss` of caller tokens (the server's CALLER_JWT_ISSUER).")
    var callerIssuer: String?

    @Option(help: "`aud` of caller tokens (the server's CALLER_JWT_AUDIENCE).")
    var callerAudience: String?

    @Option(help: "Lifetime of each caller token in seconds; they are re-signed at half of it.")
    var callerTokenLifetime = 300

    @Option(help: "Share of requests (0-1) sent by bad callers (forged, expired, alg none, junk); each must get 401.")
    var badRatio = 0.0

    @Option(help: "Miro client secret: every served token's HS256 signature is verified with it.")
    var clientSecret: String?

    @Option(help: "File holding the Miro client secret.")
    var clientSecretFile: String?

    @Option(help: "Miro client ID every token's iss must equal.")
    var clientID: String?

    @Option(help: "Seconds of life a served token must have left (the server's TOKEN_MIN_REMAINING_SECONDS).")
    var minRemaining = 60

    @Option(help: "Highest share of errors (statuses, timeouts, broken connections) that still passes.")
    var maxErrorRatio = 0.0

    @Option(help: "A server process to read CPU time (with its children) and RSS from; repeatable.")
    var serverPid: [Int32] = []

    @Option(help: "Write the JSON report to this file.")
    var json: String?

    @Flag(help: "No progress lines.")
    var quiet = false

    func run() async throws {
        let plan: LoadPlan
        do {
            plan = try makePlan()
        } catch let error as LoadError {
            fail(error.description)
        }
        let interactive = isatty(STDERR_FILENO) == 1
        var progress: (@Sendable (String) -> Void)?
        if !quiet {
            progress = { line in
                // On a terminal one line rewritten in place; in a log, one line a second.
                let text = interactive ? "\r\u{1B}[K\(line)" : "\(line)\n"
                FileHandle.standardError.write(Data(text.utf8))
            }
        }
        let report: LoadReport
        do {
            report = try await LoadRun.run(plan, progress: progress)
        } catch let error as LoadError {
            fail(error.description)
        } catch {
            fail("the run could not start: \(error)")
        }
        if interactive && !quiet { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if let json {
            do {
                try report.json().write(to: URL(fileURLWithPath: json))
            } catch {
                fail("--json: cannot write \(json): \(error)")
            }
        }
        print(report.text)
        if !report.passed { throw ExitCode(1) }
    }

    private func makePlan() throws -> LoadPlan {
        let urls = try targets.map { text in
            guard let url = TargetURL(text) else { throw LoadError("\(text): not a target URL (http://host[:port])") }
            return url
        }
        let signing: CallerPlan.Signing
        switch (try secret(callerSecret, file: callerSecretFile, name: "--caller-secret"), callerKey) {
        case (.some, .some):
            throw LoadError("give either --caller-secret[-file] or --caller-key, not both")
        case (nil, nil):
            throw LoadError("give --caller-secret, --caller-secret-file or --caller-key: the server verifies callers")
        case (.some(let secret), nil):
            guard let algorithm = CallerPlan.HMACAlgorithm(rawValue: callerAlgorithm.uppercased()) else {
                throw LoadError("--caller-algorithm must be HS256, HS384 or HS512")
            }
            let minimum = ["HS256": 32, "HS384": 48, "HS512": 64][algorithm.rawValue]!
            guard secret.count >= minimum else {
                throw LoadError("--caller-secret: \(algorithm.rawValue) needs at least \(minimum) bytes")
            }
            signing = .sharedSecret(secret, algorithm: algorithm)
        case (nil, .some(let path)):
            guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw LoadError("--caller-key: cannot read \(path)")
            }
            signing = .privateKeyPEM(pem, keyID: callerKeyID)
        }
        var pacing = LoadPlan.Pacing.closedLoop
        if let rate { pacing = .openLoop(requestsPerSecond: rate) }
        let plan = LoadPlan(
            targets: urls,
            pacing: pacing,
            connections: connections,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
            warmupSeconds: warmup,
            durationSeconds: duration,
            requestTimeoutSeconds: timeout,
            callers: CallerPlan(
                signing: signing,
                users: users,
                tokenLifetimeSeconds: callerTokenLifetime,
                badRatio: badRatio,
                issuer: callerIssuer,
                audience: callerAudience
            ),
            checks: TokenChecks(
                clientSecret: try secret(clientSecret, file: clientSecretFile, name: "--client-secret"),
                clientID: clientID,
                minimumRemainingSeconds: minRemaining
            ),
            maxErrorRatio: maxErrorRatio,
            serverPIDs: serverPid
        )
        if let problem = plan.validationError() { throw LoadError(problem) }
        return plan
    }

    private func secret(_ value: String?, file: String?, name: String) throws -> [UInt8]? {
        switch (value, file) {
        case (.some, .some): throw LoadError("give either \(name) or \(name)-file, not both")
        case (.some(let value), nil): return Array(value.utf8)
        case (nil, .some(let path)):
            guard var text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw LoadError("\(name)-file: cannot read \(path)")
            }
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            return Array(text.utf8)
        case (nil, nil): return nil
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("tokenmint-load: \(message)\n".utf8))
        Glibc.exit(2)
    }
}
