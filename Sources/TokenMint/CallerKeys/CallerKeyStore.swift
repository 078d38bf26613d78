import CoreMetrics
import Logging
import Synchronization

/// The identity provider's public keys, fetched from its JWKS URL (configured, or found by OIDC discovery) and kept
/// fresh: a background refresh every ``CallerKeyRefreshStateMachine/refreshSeconds``, and a refetch when a token
/// names a `kid` the set lacks.
///
/// ``current`` is read on the event loop for every public-key token: a lock held for a pointer copy. Fetching and
/// parsing happen in tasks of their own, through the ``CallerKeyFetcher``; every decision of when to fetch comes
/// from ``CallerKeyRefreshStateMachine``.
///
/// - Important: Stale-if-error: a failed fetch (provider down, garbage, no usable key) never replaces the key set in
///   use. Before the first success there are no keys, and public-key callers get 503 rather than 401.
public final class CallerKeyStore: Sendable {
    public enum Origin: Sendable, Equatable {
        /// `CALLER_JWT_JWKS_URL`.
        case jwks(String)
        /// `CALLER_JWT_DISCOVERY` at `CALLER_JWT_ISSUER`.
        case discovery(issuer: String)
    }

    /// Longest a request with an unknown `kid` waits for the refetch it triggered or joined.
    public static let unknownKIDWait: Duration = .seconds(5)
    /// The refresh loop wakes at least this often, so the age gauge stays current and shutdown is prompt.
    static let maximumSleepSeconds = 5.0
    /// And sleeps at least this long, so it never spins while a fetch it did not start is in flight.
    static let minimumSleepSeconds = 0.25

    private struct State {
        var machine: CallerKeyRefreshStateMachine
        var keys: PublicCallerKeys?
        /// The JWKS URL in use: the configured one, or the last one discovery found.
        var jwksURL: String?
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID = 0
        var lastSkipped: [String] = []

        /// Every waiter, removed in the same step, so that none registers in between and is never resumed.
        mutating func takeWaiters() -> [CheckedContinuation<Void, Never>] {
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
    }

    public let origin: Origin
    private let fetcher: any CallerKeyFetcher
    private let metrics: CallerKeyMetrics
    private let logger: Logger
    private let now: @Sendable () -> Double
    private let state: Mutex<State>

    public init(
        origin: Origin,
        refreshSeconds: Double,
        fetcher: any CallerKeyFetcher,
        metrics: CallerKeyMetrics,
        logger: Logger,
        now: @escaping @Sendable () -> Double = UnixTime.now
    ) {
        self.origin = origin
        self.fetcher = fetcher
        self.metrics = metrics
        self.logger = logger
        self.now = now
        var initial = State(machine: CallerKeyRefreshStateMachine(refreshSeconds: refreshSeconds, now: now()))
        if case .jwks(let url) = origin { initial.jwksURL = url }
        state = Mutex(initial)
        metrics.age.record(-1)
    }

    /// The key set in use; nil until the first fetch succeeded.
    var current: PublicCallerKeys? { state.withLock { $0.keys } }

    public var health: CallerKeyRefreshStateMachine.Health { state.withLock { $0.machine.health } }

    /// The fetcher trusts a new CA bundle: fetch again at the background loop's next wake (within
    /// ``maximumSleepSeconds``), with the backoff reset.
    public func trustChanged() {
        let now = self.now()
        state.withLock { $0.machine.trustChanged(at: now) }
    }

    /// Refreshes in the background until the task is cancelled. Start-up does not wait for it: a provider that is
    /// down delays public-key callers (503), never the replica.
    public func run() async {
        while !Task.isCancelled {
            let now = self.now()
            let (decision, age) = state.withLock { state in
                (state.machine.background(at: now), state.machine.keySetAge(at: now))
            }
            metrics.age.record(age ?? -1)
            switch decision {
            case .fetch:
                await fetchAndApply()
            case .sleep(let until):
                let seconds = min(max(until - now, Self.minimumSleepSeconds), Self.maximumSleepSeconds)
                try? await Task.sleep(for: .seconds(seconds))
            }
        }
    }

    /// The key set after the refetch an unknown `kid` asks for: started here, joined if one is in flight, or
    /// skipped when the last one was too recent. Waits at most ``unknownKIDWait``.
    func keysAfterRefetch(forUnknownKID kid: String) async -> PublicCallerKeys? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = self.now()
            let (decision, id) = state.withLock { state in
                let decision = state.machine.unknownKID(at: now)
                guard decision != .answerNow else { return (decision, -1) }
                let id = state.nextWaiterID
                state.nextWaiterID += 1
                state.waiters[id] = continuation
                return (decision, id)
            }
            switch decision {
            case .answerNow:
                continuation.resume()
                return
            case .fetch:
                logger.info(
                    "caller token names an unknown kid; fetching the keys again",
                    metadata: ["kid": "\(PublicCallerKeys.shown(kid))"]
                )
                Task { await self.fetchAndApply() }
            case .join:
                break
            }
            Task {
                try? await Task.sleep(for: Self.unknownKIDWait)
                self.resumeWaiter(id)
            }
        }
        return current
    }

    private func resumeWaiter(_ id: Int) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }

    /// One fetch whose start the state machine has already recorded.
    private func fetchAndApply() async {
        metrics.fetches.increment()
        let outcome: CallerKeyRefreshStateMachine.Outcome
        let waiters: [CheckedContinuation<Void, Never>]
        do {
            let url = try await jwksURL()
            let keys = try await PublicCallerKeys.fetched(try await fetcher.fetch(url))
            let skippedChanged: Bool
            (outcome, waiters, skippedChanged) = state.withLock { state in
                state.keys = keys
                let outcome = state.machine.fetchSucceeded(at: now())
                let changed = state.lastSkipped != keys.skipped
                state.lastSkipped = keys.skipped
                return (outcome, state.takeWaiters(), changed)
            }
            if skippedChanged {
                for skipped in keys.skipped {
                    logger.warning("caller keys: skipped a key", metadata: ["key": "\(skipped)", "url": "\(url)"])
                }
            }
            if outcome.logChange != nil {
                logger.info("caller keys loaded", metadata: ["url": "\(url)", "keys": "\(keys.entries.count)"])
            }
        } catch {
            metrics.refreshFailures.increment()
            let jitter = Double.random(in: 0...1)
            (outcome, waiters) = state.withLock { state in
                let outcome = state.machine.fetchFailed(at: now(), jitter: jitter)
                if outcome.rediscover, case .discovery = origin { state.jwksURL = nil }
                return (outcome, state.takeWaiters())
            }
            switch outcome.logChange {
            case .loading:
                logger.error(
                    "caller keys could not be fetched; public-key callers get 503 until they are",
                    metadata: ["error": "\(error)", "origin": "\(describe(origin))"]
                )
            case .stale:
                logger.warning(
                    "caller keys refresh failed; keeping the last good keys",
                    metadata: ["error": "\(error)", "origin": "\(describe(origin))"]
                )
            default: break
            }
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The configured JWKS URL, or the one discovery finds (and remembers until it must run again).
    private func jwksURL() async throws -> String {
        if let url = state.withLock({ $0.jwksURL }) { return url }
        guard case .discovery(let issuer) = origin else { throw CallerKeyFetchError("no JWKS URL") }
        let document = try OIDCDiscoveryDocument(
            try await fetcher.fetch(OIDCDiscoveryDocument.url(issuer: issuer)),
            expectedIssuer: issuer
        )
        state.withLock { $0.jwksURL = document.jwksURI }
        logger.info("caller keys: discovered the JWKS URL", metadata: ["jwks_uri": "\(document.jwksURI)"])
        return document.jwksURI
    }

    private func describe(_ origin: Origin) -> String {
        switch origin {
        case .jwks(let url): url
        case .discovery(let issuer): OIDCDiscoveryDocument.url(issuer: issuer)
        }
    }
}
