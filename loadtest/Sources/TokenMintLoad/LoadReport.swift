import Foundation
import Histogram

/// What a run measured and whether it passed; written as JSON with `--json` and as text at the end of a run.
public struct LoadReport: Codable, Sendable {
    public struct Latency: Codable, Sendable {
        public var count: UInt64
        public var p50Micros: UInt64
        public var p90Micros: UInt64
        public var p99Micros: UInt64
        public var p999Micros: UInt64
        public var maxMicros: UInt64
        public var meanMicros: Double

        init(_ histogram: Histogram<UInt64>) {
            count = histogram.totalCount
            p50Micros = count == 0 ? 0 : histogram.valueAtPercentile(50)
            p90Micros = count == 0 ? 0 : histogram.valueAtPercentile(90)
            p99Micros = count == 0 ? 0 : histogram.valueAtPercentile(99)
            p999Micros = count == 0 ? 0 : histogram.valueAtPercentile(99.9)
            maxMicros = count == 0 ? 0 : histogram.max
            meanMicros = count == 0 ? 0 : histogram.mean
        }
    }

    /// One second of the measured window: how a spike and the recovery after it look.
    public struct Second: Codable, Sendable {
        /// Seconds since the measured window began, at the end of this second.
        public var at: Double
        public var requestsPerSecond: Double
        public var errors: UInt64
        public var p50Micros: UInt64
        public var p99Micros: UInt64
        public var maxMicros: UInt64

        init(at: Double, seconds: Double, stats: IntervalStats) {
            self.at = at
            requestsPerSecond = seconds > 0 ? Double(stats.answered - stats.failed) / seconds : 0
            errors = stats.failed
            let empty = stats.latency.totalCount == 0
            p50Micros = empty ? 0 : stats.latency.valueAtPercentile(50)
            p99Micros = empty ? 0 : stats.latency.valueAtPercentile(99)
            maxMicros = empty ? 0 : stats.latency.max
        }
    }

    public var startedAt: String
    public var targets: [String]
    /// `closed` or `open`.
    public var mode: String
    public var requestedRate: Double?
    public var connections: Int
    public var threads: Int
    public var users: Int
    public var badRatio: Double
    public var warmupSeconds: Double
    public var durationSeconds: Double

    /// Answers in the measured window: successes + rejections + failures.
    public var requests: UInt64
    public var succeeded: UInt64
    /// Bad callers refused with 401, as they must be.
    public var rejected: UInt64
    public var errors: [String: UInt64]
    public var violations: [String: UInt64]
    public var errorRatio: Double
    public var requestsPerSecond: Double
    /// Latency of good callers' successful answers (open loop: from when each request was due).
    public var latency: Latency
    public var rejectionLatency: Latency
    public var distinctTokens: Int
    public var tokenSignaturesChecked: Bool
    /// The driver's own CPU per answer: near the server's, the driver shared the limit.
    public var driverCPUMicrosPerRequest: Double
    public var serverCPUMicrosPerRequest: Double?
    public var serverRSSBytes: Int?
    public var timeline: [Second]
    public var passed: Bool
    public var failureReasons: [String]

    init(
        plan: LoadPlan,
        stats: LoopStats,
        startedAt: Date,
        measuredSeconds: Double,
        driverCPUMicros: Double,
        serverCPUMicros: Double?,
        serverRSSBytes: Int?,
        timeline: [Second]
    ) {
        self.timeline = timeline
        let formatter = ISO8601DateFormatter()
        self.startedAt = formatter.string(from: startedAt)
        targets = plan.targets.map(\.description)
        switch plan.pacing {
        case .closedLoop:
            mode = "closed"
            requestedRate = nil
        case .openLoop(let rate):
            mode = "open"
            requestedRate = rate
        }
        connections = plan.connections
        threads = plan.threads
        users = plan.callers.users
        badRatio = plan.callers.badRatio
        warmupSeconds = plan.warmupSeconds
        durationSeconds = measuredSeconds
        requests = stats.answered
        succeeded = stats.succeeded
        rejected = stats.rejected
        var errors: [String: UInt64] = [:]
        var violations: [String: UInt64] = [:]
        for (failure, count) in stats.failures {
            if failure.isViolation {
                violations[failure.description, default: 0] += count
            } else {
                errors[failure.description, default: 0] += count
            }
        }
        for (failure, count) in stats.warmupViolations { violations["\(failure) (warmup)", default: 0] += count }
        self.errors = errors
        self.violations = violations
        let errorCount = errors.values.reduce(0, +)
        errorRatio = requests == 0 ? 0 : Double(errorCount) / Double(requests)
        // Correct answers only: a wrong token served fast is not throughput.
        requestsPerSecond = measuredSeconds > 0 ? Double(succeeded + rejected) / measuredSeconds : 0
        latency = Latency(stats.latency)
        rejectionLatency = Latency(stats.rejectionLatency)
        distinctTokens = stats.distinctTokens.count
        tokenSignaturesChecked = plan.checks.clientSecret != nil
        let answered = Double(max(requests, 1))
        driverCPUMicrosPerRequest = driverCPUMicros / answered
        serverCPUMicrosPerRequest = serverCPUMicros.map { $0 / answered }
        self.serverRSSBytes = serverRSSBytes

        var reasons: [String] = []
        if succeeded == 0 { reasons.append("no good caller got a token") }
        if !violations.isEmpty {
            let list = violations.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            reasons.append("check violations: \(list)")
        }
        if errorRatio > plan.maxErrorRatio {
            reasons.append(
                "error ratio \(Self.format(errorRatio, digits: 6)) is above --max-error-ratio \(plan.maxErrorRatio)"
            )
        }
        failureReasons = reasons
        passed = reasons.isEmpty
    }

    private var errorCount: UInt64 { errors.values.reduce(0, +) }

    /// The human-readable report, ending with the one-line summary.
    public var text: String {
        var lines: [String] = []
        let rate = requestedRate.map { " at \(Self.format($0, digits: 0)) req/s" } ?? ""
        lines.append(
            "tokenmint-load: \(mode) loop\(rate), \(connections) connections on \(threads) threads, "
                + "\(users) users (bad ratio \(badRatio)), \(Self.format(durationSeconds, digits: 1)) s after "
                + "\(Self.format(warmupSeconds, digits: 1)) s warmup"
        )
        lines.append("  targets:       \(targets.joined(separator: " "))")
        lines.append(
            "  answers:       \(requests) (\(succeeded) tokens, \(rejected) bad callers refused, "
                + "\(errorCount) errors)"
        )
        lines.append("  throughput:    \(Self.format(requestsPerSecond, digits: 1)) req/s")
        lines.append("  latency:       \(Self.describe(latency))")
        if rejectionLatency.count > 0 { lines.append("  rejections:    \(Self.describe(rejectionLatency))") }
        for (name, count) in errors.sorted(by: { $0.key < $1.key }) {
            lines.append("  error:         \(name) \(count)")
        }
        for (name, count) in violations.sorted(by: { $0.key < $1.key }) {
            lines.append("  VIOLATION:     \(name) \(count)")
        }
        lines.append(
            "  tokens:        \(distinctTokens) distinct, signatures "
                + (tokenSignaturesChecked ? "verified" : "not verified (no --client-secret)")
        )
        var cpu = "  CPU:           driver \(Self.format(driverCPUMicrosPerRequest, digits: 2)) µs/req"
        if let server = serverCPUMicrosPerRequest { cpu += ", server \(Self.format(server, digits: 2)) µs/req" }
        if let rss = serverRSSBytes { cpu += ", server RSS \(Self.format(Double(rss) / 1_048_576, digits: 1)) MiB" }
        lines.append(cpu)
        lines.append(summary)
        return lines.joined(separator: "\n")
    }

    /// The last line of every run: what a script or a CI log needs at a glance.
    public var summary: String {
        let verdict = passed ? "PASS" : "FAIL (\(failureReasons.joined(separator: "; ")))"
        return "tokenmint-load: \(verdict): \(requests) requests, \(Self.format(requestsPerSecond, digits: 1)) req/s, "
            + "p99 \(Self.millis(latency.p99Micros)) ms, p99.9 \(Self.millis(latency.p999Micros)) ms, "
            + "errors \(errorCount), violations \(violations.values.reduce(0, +)), "
            + "distinct tokens \(distinctTokens)"
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(self)
    }

    private static func describe(_ latency: Latency) -> String {
        "p50 \(millis(latency.p50Micros)) ms, p90 \(millis(latency.p90Micros)) ms, p99 \(millis(latency.p99Micros)) ms, "
            + "p99.9 \(millis(latency.p999Micros)) ms, max \(millis(latency.maxMicros)) ms"
    }

    static func millis(_ micros: UInt64) -> String { format(Double(micros) / 1_000, digits: 3) }

    static func format(_ value: Double, digits: Int) -> String { String(format: "%.\(digits)f", value) }
}
