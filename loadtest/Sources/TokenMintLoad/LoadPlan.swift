import NIOCore

/// What one run does, validated: the command line turns into this, tests build it directly.
public struct LoadPlan: Sendable {
    /// How requests are paced.
    public enum Pacing: Sendable, Equatable {
        /// Each connection sends its next request as soon as the previous answer arrives (like `wrk`): measures
        /// capacity; latency is the service time seen by a saturated client.
        case closedLoop
        /// Requests are due at a constant rate whatever the server does; latency counts from the moment a request
        /// was due, so a stalled server shows up in the percentiles (coordinated omission corrected).
        case openLoop(requestsPerSecond: Double)
    }

    public var targets: [TargetURL]
    public var pacing: Pacing
    /// Keep-alive connections, spread round-robin over targets and event loops.
    public var connections: Int
    public var threads: Int
    public var warmupSeconds: Double
    public var durationSeconds: Double
    /// A request unanswered this long is a `timeout` error and its connection is replaced.
    public var requestTimeoutSeconds: Double
    public var callers: CallerPlan
    public var checks: TokenChecks
    /// Errors (statuses, timeouts, broken connections) above this share of requests fail the run. Check violations
    /// (a wrong token, a missing `no-store`, a bad caller let through) always fail it.
    public var maxErrorRatio: Double
    /// Processes whose CPU time (with their children) is read before and after the measured window.
    public var serverPIDs: [Int32]

    public init(
        targets: [TargetURL],
        pacing: Pacing = .closedLoop,
        connections: Int = 64,
        threads: Int = System.coreCount,
        warmupSeconds: Double = 2,
        durationSeconds: Double = 10,
        requestTimeoutSeconds: Double = 5,
        callers: CallerPlan,
        checks: TokenChecks = TokenChecks(),
        maxErrorRatio: Double = 0,
        serverPIDs: [Int32] = []
    ) {
        self.targets = targets
        self.pacing = pacing
        self.connections = connections
        self.threads = threads
        self.warmupSeconds = warmupSeconds
        self.durationSeconds = durationSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.callers = callers
        self.checks = checks
        self.maxErrorRatio = maxErrorRatio
        self.serverPIDs = serverPIDs
    }

    /// The first thing wrong with the plan, named after the option that sets it.
    public func validationError() -> String? {
        if targets.isEmpty { return "give at least one target URL" }
        if connections < 1 || connections > 100_000 { return "--connections must be from 1 to 100000" }
        if threads < 1 || threads > 256 { return "--threads must be from 1 to 256" }
        if !(durationSeconds > 0 && durationSeconds <= 86_400) {
            return "--duration must be above 0 and at most 86400 s"
        }
        if !(warmupSeconds >= 0 && warmupSeconds <= 3_600) { return "--warmup must be from 0 to 3600 s" }
        if !(requestTimeoutSeconds > 0 && requestTimeoutSeconds <= 600) {
            return "--timeout must be above 0 and at most 600 s"
        }
        if !(maxErrorRatio >= 0 && maxErrorRatio <= 1) { return "--max-error-ratio must be from 0 to 1" }
        if case .openLoop(let rate) = pacing, !(rate >= 1 && rate <= 10_000_000) {
            return "--rate must be from 1 to 10000000 requests/s"
        }
        if callers.users < 1 || callers.users > 10_000_000 { return "--users must be from 1 to 10000000" }
        if !(callers.badRatio >= 0 && callers.badRatio <= 1) { return "--bad-ratio must be from 0 to 1" }
        if callers.tokenLifetimeSeconds < 30 || callers.tokenLifetimeSeconds > 86_400 {
            return "--caller-token-lifetime must be from 30 to 86400 s"
        }
        if checks.minimumRemainingSeconds < 0 { return "--min-remaining must not be negative" }
        return nil
    }
}
