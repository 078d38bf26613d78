import Histogram

/// One event loop's counts for the measured window; owned by that loop, merged once at the end.
struct LoopStats {
    /// Latency of good callers' successful answers, microseconds.
    var latency = LoopStats.makeHistogram()
    /// Latency of bad callers' 401s: rejections must stay cheap.
    var rejectionLatency = LoopStats.makeHistogram()
    var succeeded: UInt64 = 0
    var rejected: UInt64 = 0
    var failures: [Failure: UInt64] = [:]
    /// Violations during warmup: not part of the measured answers, but they still fail the run.
    var warmupViolations: [Failure: UInt64] = [:]
    /// Every distinct token a good caller was given.
    var distinctTokens: Set<String> = []

    var failed: UInt64 { failures.values.reduce(0, +) }
    var answered: UInt64 { succeeded + rejected + failed }

    static func makeHistogram() -> Histogram<UInt64> {
        // 1 µs to 10 min at 3 significant digits: a few hundred KiB, preallocated, no resizing on the hot path.
        Histogram<UInt64>(
            lowestDiscernibleValue: 1,
            highestTrackableValue: 600_000_000,
            numberOfSignificantValueDigits: .three
        )
    }

    mutating func merge(_ other: LoopStats) {
        latency.add(other.latency)
        rejectionLatency.add(other.rejectionLatency)
        succeeded += other.succeeded
        rejected += other.rejected
        failures.merge(other.failures, uniquingKeysWith: +)
        warmupViolations.merge(other.warmupViolations, uniquingKeysWith: +)
        distinctTokens.formUnion(other.distinctTokens)
    }
}

/// One second of the run, for the progress line and the report's timeline; reset each time it is read.
struct IntervalStats: Sendable {
    var answered: UInt64 = 0
    var failed: UInt64 = 0
    /// Latency of good and bad callers' correct answers in this second, microseconds (2 significant digits: enough
    /// to see a spike and its recovery, small enough to reset every second).
    var latency = Histogram<UInt64>(
        lowestDiscernibleValue: 1,
        highestTrackableValue: 600_000_000,
        numberOfSignificantValueDigits: .two
    )
    var inFlight = 0
    var backlog = 0

    mutating func merge(_ other: IntervalStats) {
        answered += other.answered
        failed += other.failed
        latency.add(other.latency)
        inFlight += other.inFlight
        backlog += other.backlog
    }
}
