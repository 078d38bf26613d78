/// Exponential backoff with jitter: each delay is drawn from [d/2, d], and d doubles up to a ceiling.
///
/// Jitter keeps replicas that failed together from retrying together.
public struct Backoff: Sendable {
    public let initial: Duration
    public let maximum: Duration
    private var current: Duration

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
        self.current = initial
    }

    public mutating func next() -> Duration {
        let ceiling = current
        current = min(current * 2, maximum)
        let nanos = ceiling.nanoseconds
        return .nanoseconds(Int64.random(in: (nanos / 2)...max(nanos / 2, nanos)))
    }

    public mutating func reset() { current = initial }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
