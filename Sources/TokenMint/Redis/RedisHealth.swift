import CoreMetrics
import Synchronization

/// Whether Redis works for this replica, and when to try it again after it did not.
///
/// - Important: After a failure Redis is left alone for a backoff (exponential with jitter, ``initialBackoff`` up to
///   ``maximumBackoff``) so a struggling server is not hammered by every replica; meanwhile the replica mints on its
///   own. The first success resets it.
public final class RedisHealth: Sendable {
    public enum State: String, Sendable {
        /// Not tried yet.
        case unknown
        case ok
        case degraded
    }

    public static let initialBackoff: Duration = .seconds(1)
    public static let maximumBackoff: Duration = .seconds(30)

    private struct Inner {
        var state: State = .unknown
        var retryAt: ContinuousClock.Instant?
        var backoff = Backoff(initial: RedisHealth.initialBackoff, maximum: RedisHealth.maximumBackoff)
    }

    private let inner = Mutex(Inner())
    private let metrics: RedisMetrics

    public init(metrics: RedisMetrics) {
        self.metrics = metrics
    }

    public var state: State { inner.withLock { $0.state } }

    /// How long until Redis may be tried again; nil when it may be tried now.
    public func backingOff(at now: ContinuousClock.Instant = .now) -> Duration? {
        inner.withLock { inner in
            guard let retryAt = inner.retryAt, retryAt > now else { return nil }
            return now.duration(to: retryAt)
        }
    }

    public func succeeded() {
        inner.withLock { inner in
            inner.state = .ok
            inner.retryAt = nil
            inner.backoff.reset()
        }
        metrics.degraded.record(0)
    }

    /// - Returns: the backoff before Redis is tried again.
    @discardableResult
    public func failed(at now: ContinuousClock.Instant = .now) -> Duration {
        let delay = inner.withLock { inner in
            inner.state = .degraded
            let delay = inner.backoff.next()
            inner.retryAt = now.advanced(by: delay)
            return delay
        }
        metrics.degraded.record(1)
        return delay
    }
}
