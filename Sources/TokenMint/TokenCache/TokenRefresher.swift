import CoreMetrics
import Logging
import Synchronization

/// Keeps ``TokenCache`` filled: the first token before the server reports ready, then each next one ahead of time,
/// in the background, with jitter.
///
/// - Important: Concurrent refresh requests collapse into one call to the ``TokenSource`` (single flight). Failures
///   back off exponentially with jitter, bounded by ``maximumBackoff``, while the cache keeps serving what it holds
///   until that drops below the minimum remaining life (the server then answers 503, never an almost-dead token).
public final class TokenRefresher: Sendable {
    public let cache: TokenCache
    private let source: any TokenSource
    private let metrics: TokenMetrics
    private let logger: Logger
    private let now: @Sendable () -> Double
    private let inFlight = Mutex<Task<MiroToken, any Error>?>(nil)

    /// First retry delay after a failed refresh.
    public static let initialBackoff: Duration = .milliseconds(100)
    /// Retry delays never grow past this, so a recovered source is noticed quickly.
    public static let maximumBackoff: Duration = .seconds(5)

    public init(
        source: any TokenSource,
        cache: TokenCache,
        metrics: TokenMetrics,
        logger: Logger,
        now: @escaping @Sendable () -> Double = UnixTime.now
    ) {
        self.source = source
        self.cache = cache
        self.metrics = metrics
        self.logger = logger
        self.now = now
    }

    /// Gets the first token, retrying with backoff until `timeout` runs out.
    ///
    /// - Throws: the last error when no token could be had in time.
    public func prime(timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var backoff = Backoff(initial: Self.initialBackoff, maximum: Self.maximumBackoff)
        while true {
            do {
                _ = try await refresh()
                return
            } catch {
                let delay = backoff.next()
                guard clock.now.advanced(by: delay) < deadline else { throw error }
                try await Task.sleep(for: delay)
            }
        }
    }

    /// Produces a new token now, joining a refresh already under way rather than starting another.
    @discardableResult
    public func refresh() async throws -> MiroToken {
        let task: Task<MiroToken, any Error> = inFlight.withLock { current in
            if let current { return current }
            let held = cache.held
            let task = Task<MiroToken, any Error> { [source, now] in
                try await source.nextToken(held: held, now: now())
            }
            current = task
            return task
        }
        defer { inFlight.withLock { if $0 == task { $0 = nil } } }
        do {
            let token = try await task.value
            // Refreshes are single-flight, so what the source hands back is the answer, even when it is older than
            // the held token (a shared store's fleet token, adopted on rejoining after an outage).
            if cache.store(token, replacingNewer: true) {
                metrics.expiry.record(token.expiresAt)
            }
            return token
        } catch {
            metrics.refreshFailures.increment()
            throw error
        }
    }

    /// Refreshes ahead of time until cancelled (graceful shutdown cancels it).
    public func run() async {
        var generator = SystemRandomNumberGenerator()
        var backoff = Backoff(initial: Self.initialBackoff, maximum: Self.maximumBackoff)
        while !Task.isCancelled {
            var delay: Duration
            let held = cache.held
            if let held {
                let at = cache.timing.refreshTime(for: held, using: &generator)
                delay = .milliseconds(max(0, Int(((at - now()) * 1000).rounded(.up))))
            } else {
                delay = .zero
            }
            if let rejoin = source.rejoinDelay, rejoin < delay { delay = rejoin }
            do {
                if delay > .zero { try await Task.sleep(for: delay) }
            } catch {
                return  // cancelled
            }
            do {
                let token = try await refresh()
                if token != held {
                    logger.info(
                        "token refreshed",
                        metadata: ["token": "\(token.fingerprint)", "expires_at": "\(token.expiresAt)"]
                    )
                }
                if cache.timing.refreshTime(for: token, fraction: TokenTiming.refreshAheadFractions.lowerBound)
                    > now()
                {
                    backoff.reset()
                } else {
                    // The source handed back a token that is already due (a shared store still holding the old
                    // one): wait before asking again rather than spin.
                    do { try await Task.sleep(for: backoff.next()) } catch { return }
                }
            } catch {
                let retry = backoff.next()
                logger.error(
                    "token refresh failed; serving the held token while it lasts",
                    metadata: ["error": "\(error)", "retry_in_ms": "\(retry.milliseconds)"]
                )
                do { try await Task.sleep(for: retry) } catch { return }
            }
        }
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
