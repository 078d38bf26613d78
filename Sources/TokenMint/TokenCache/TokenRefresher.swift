import CoreMetrics
import Logging
import Synchronization

/// Keeps ``TokenCache`` filled: the first token before the server reports ready, then each next one ahead of time,
/// in the background. It performs what ``RefreshPolicy`` decides and reports back what happened; it decides nothing.
///
/// - Important: One loop performs every action, so refreshes never overlap (single flight by construction). The
///   cache keeps serving what it holds while an attempt runs or fails, until the token drops below the minimum
///   remaining life (the server then answers 503, never an almost-dead token).
public final class TokenRefresher: Sendable {
    public let cache: TokenCache
    private let minter: TokenMinter
    private let shared: (any SharedTokenStore)?
    private let metrics: TokenMetrics
    private let logger: Logger
    private let clock: any RefreshClock
    private let state: Mutex<State>

    private struct State: Sendable {
        var policy: RefreshPolicy
        var random: SeededRandom
        /// The failure of the last attempt, so that an outage is logged once, not at every retry.
        var logged: RedisError?
    }

    /// - Parameters:
    ///   - shared: the store the fleet shares its token through; nil mints every token here.
    ///   - random: the generator refresh points and backoffs are drawn from (a seed, for tests and simulations).
    public init(
        minter: TokenMinter,
        shared: (any SharedTokenStore)?,
        cache: TokenCache,
        metrics: TokenMetrics,
        logger: Logger,
        clock: any RefreshClock = SystemRefreshClock(),
        random: SeededRandom = SeededRandom()
    ) {
        self.minter = minter
        self.shared = shared
        self.cache = cache
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.state = Mutex(
            State(policy: RefreshPolicy(timing: cache.timing, shared: shared != nil), random: random)
        )
    }

    /// Whether the replica shares the fleet's token right now (`/readyz` reports it).
    public var sharing: RefreshPolicy.Sharing { state.withLock { $0.policy.sharing } }

    /// Gets the first token (from the shared store, or minted here when it fails), so the replica is ready the moment
    /// it listens.
    ///
    /// - Throws: ``PrimeTimeout`` when no token is held after `timeout` (the store's attempt is bounded, and minting
    ///   cannot fail, so this is a bound rather than an expected outcome).
    public func prime(timeout: Duration) async throws {
        let deadline = clock.now() + timeout.seconds
        var outcome = RefreshPolicy.Outcome.woke
        // Bounded: a cold start is at most tryShared, mintLocally, adopt.
        for _ in 0..<16 {
            let action = decide(after: outcome)
            if case .sleep = action {
                if cache.servable(at: clock.now()) != nil { return }
                // Only waiting is cut short: an attempt under way (bounded) still ends in a token of our own.
                guard clock.now() < deadline else { break }
            }
            guard let next = await perform(action) else { break }
            outcome = next
        }
        throw PrimeTimeout()
    }

    public struct PrimeTimeout: Error, CustomStringConvertible {
        public var description: String { "no first token in time" }
    }

    /// Refreshes ahead of time until cancelled (graceful shutdown cancels it).
    public func run() async {
        var outcome = RefreshPolicy.Outcome.woke
        while !Task.isCancelled {
            guard let next = await perform(decide(after: outcome)) else { return }
            outcome = next
        }
    }

    /// Asks the policy, and logs and records what changed in the sharing state.
    private func decide(after outcome: RefreshPolicy.Outcome) -> RefreshPolicy.Action {
        let now = clock.now()
        // A token signed with another secret (the one a reload just replaced) counts as none: the refresher of the
        // new secret replaces it at once instead of serving it out.
        let held = cache.held.flatMap { minter.signed($0) ? $0 : nil }
        let (action, before, after, failure, logFailure) = state.withLock { state in
            let before = state.policy.sharing
            let action = state.policy.next(now: now, held: held, after: outcome, using: &state.random)
            let failure = state.policy.lastFailure
            // Once per outage, and again only if the kind of failure changes (a TLS failure retried every backoff
            // is logged once, whatever OpenSSL's wording of each attempt).
            let logFailure = failure != nil && failure?.kind != state.logged?.kind
            state.logged = failure
            return (action, before, state.policy.sharing, failure, logFailure)
        }
        if case .shared(.failed) = outcome { metrics.refreshFailures.increment() }
        if before != after, after != .disabled {
            metrics.degraded.record(after == .degraded ? 1 : 0)
        }
        if let failure, logFailure {
            let retry = state.withLock { $0.policy.rejoinAt }.map { Int((($0 - now) * 1000).rounded()) }
            logger.error(
                "redis failed; serving a token of this replica's own (degraded)",
                metadata: ["error": "\(failure)", "retry_redis_in_ms": "\(retry ?? 0)"]
            )
        }
        if after == .ok, before != .ok, case .adopt(let token) = action {
            logger.info("redis: ok, sharing the fleet's token", metadata: ["token": "\(token.fingerprint)"])
        }
        return action
    }

    /// Performs one action; nil when cancelled.
    private func perform(_ action: RefreshPolicy.Action) async -> RefreshPolicy.Outcome? {
        switch action {
        case .sleep(let until):
            do { try await clock.sleep(until: until) } catch { return nil }
            return .woke
        case .tryShared:
            guard let shared else { return .shared(.failed(RedisError(.connect, "no shared store"))) }
            let attempt = await shared.attempt()
            return Task.isCancelled ? nil : .shared(attempt)
        case .mintLocally:
            let token = minter.mint(now: clock.now())
            if sharing != .disabled {
                logger.warning("minted locally (degraded)", metadata: ["token": "\(token.fingerprint)"])
            }
            return .minted(token)
        case .adopt(let token):
            let held = cache.held
            if cache.store(token, replacingNewer: true) {
                metrics.expiry.record(token.expiresAt)
            }
            if token != held {
                logger.info(
                    "token refreshed",
                    metadata: ["token": "\(token.fingerprint)", "expires_at": "\(token.expiresAt)"]
                )
            }
            return .adopted
        }
    }
}
