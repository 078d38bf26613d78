/// Exponential backoff with jitter: each delay is drawn from [d/2, d], and d doubles up to a ceiling.
///
/// Jitter keeps replicas that failed together from retrying together. The randomness is passed in, so a test or a
/// simulation can replay a schedule exactly.
public struct Backoff: Sendable {
    public let initial: Duration
    public let maximum: Duration
    private var current: Duration

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
        self.current = initial
    }

    /// The next delay: d/2 + u × d/2 for u drawn uniformly from [0, 1) (a generator that answers 0 gives d/2).
    public mutating func next(using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = current
        current = min(current * 2, maximum)
        let half = ceiling.nanoseconds / 2
        let unit = Double(generator.next() >> 11) / Double(UInt64(1) << 53)
        return .nanoseconds(half + Int64((Double(ceiling.nanoseconds - half) * unit).rounded(.down)))
    }

    public mutating func next() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return next(using: &generator)
    }

    public mutating func reset() { current = initial }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
    /// As fractional seconds, for arithmetic on Unix times.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
