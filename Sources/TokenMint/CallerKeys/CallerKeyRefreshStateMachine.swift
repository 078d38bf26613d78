/// Every "when next" of the identity provider's keys: the background refresh, the refetch an unknown `kid` asks
/// for, single flight, backoff after failures, re-discovery, and when a change of state is worth a log line.
///
/// No I/O and no clock of its own: ``CallerKeyStore`` reports what happened with the time it happened, performs the
/// returned decisions, and never decides anything itself.
///
/// ```
///            success                  failure (logged once)
///   loading ---------> fresh <------------------------------+
///      |  ^              |  ^                               |
///      |  | failure      |  | success (logged)              |
///      |  +--(logged     |  |                               |
///      |     once)       v  |                               |
///      |               stale --------------------------------+
///      |                 failure: keep the last good keys, back off
///      +-- before the first success public-key callers get 503
/// ```
///
/// - Important: At most one fetch is in flight at any time (single flight), whoever asked for it. An unknown `kid`
///   starts a fetch at most once per ``unknownKIDInterval``, whatever the traffic: a flood of made-up `kid`s must
///   not turn this replica into a load generator against the identity provider.
public struct CallerKeyRefreshStateMachine: Sendable {
    /// The shortest time between two fetches started by unknown `kid`s.
    public static let unknownKIDInterval = 30.0
    /// After this many failures in a row, discovery runs again before the next JWKS fetch: the provider may have
    /// moved its `jwks_uri`.
    public static let rediscoverAfterFailures = 3
    /// The first retry after a failure; it doubles per failure up to ``maximumRetrySeconds`` (or the refresh
    /// interval, if shorter).
    public static let firstRetrySeconds = 1.0
    public static let maximumRetrySeconds = 60.0

    public enum Health: String, Sendable {
        /// No key set yet: never fetched successfully.
        case loading
        /// The last fetch succeeded.
        case fresh
        /// The last fetch failed; the last good key set is still used.
        case stale
    }

    /// What an unknown `kid` should do.
    public enum UnknownKIDDecision: Equatable, Sendable {
        /// Start a fetch, then wait for it.
        case fetch
        /// A fetch is already in flight: wait for it.
        case join
        /// Too soon after the last one: answer from the keys at hand.
        case answerNow
    }

    /// What the background loop should do.
    public enum BackgroundDecision: Equatable, Sendable {
        case fetch
        /// Nothing to do before this time (a fetch may be in flight).
        case sleep(until: Double)
    }

    /// What a finished fetch changed.
    public struct Outcome: Equatable, Sendable {
        /// The state changed in a way the operator should read: log it (once per change, not once per fetch).
        public var logChange: Health?
        /// Run discovery again before the next JWKS fetch.
        public var rediscover = false
    }

    public let refreshSeconds: Double
    public private(set) var health = Health.loading
    public private(set) var fetchInFlight = false
    public private(set) var consecutiveFailures = 0
    /// When the key set in use was fetched.
    public private(set) var lastSuccess: Double?
    private var lastUnknownKIDFetch: Double?
    private var nextBackgroundFetch: Double
    /// Whether the failure of the current health state has been logged already.
    private var failureLogged = false

    /// - Parameter now: the start; the first fetch is due at once.
    public init(refreshSeconds: Double, now: Double) {
        self.refreshSeconds = refreshSeconds
        nextBackgroundFetch = now
    }

    /// Age of the key set in use, for the gauge; nil before the first success.
    public func keySetAge(at now: Double) -> Double? {
        lastSuccess.map { max(0, now - $0) }
    }

    public mutating func background(at now: Double) -> BackgroundDecision {
        if fetchInFlight || now < nextBackgroundFetch {
            return .sleep(until: max(nextBackgroundFetch, now))
        }
        fetchInFlight = true
        return .fetch
    }

    public mutating func unknownKID(at now: Double) -> UnknownKIDDecision {
        if fetchInFlight { return .join }
        if let last = lastUnknownKIDFetch, now < last + Self.unknownKIDInterval { return .answerNow }
        lastUnknownKIDFetch = now
        fetchInFlight = true
        return .fetch
    }

    public mutating func fetchSucceeded(at now: Double) -> Outcome {
        let previous = health
        fetchInFlight = false
        consecutiveFailures = 0
        lastSuccess = now
        health = .fresh
        failureLogged = false
        nextBackgroundFetch = now + refreshSeconds
        return Outcome(logChange: previous == .fresh ? nil : .fresh)
    }

    public mutating func fetchFailed(at now: Double, jitter: Double = 0.5) -> Outcome {
        fetchInFlight = false
        consecutiveFailures += 1
        if health == .fresh { health = .stale }
        var outcome = Outcome()
        if !failureLogged {
            failureLogged = true
            outcome.logChange = health
        }
        outcome.rediscover = consecutiveFailures % Self.rediscoverAfterFailures == 0
        nextBackgroundFetch = now + retryDelay(jitter: jitter)
        return outcome
    }

    /// The trust the fetches use changed (a new `CALLER_JWT_CA_FILE`): the failures so far say nothing about the
    /// next fetch, so the backoff starts over and the next background fetch is due at once. An unhealthy set is the
    /// usual reason for the change, and waiting out a minute of backoff would keep public-key callers at 503.
    public mutating func trustChanged(at now: Double) {
        consecutiveFailures = 0
        nextBackgroundFetch = min(nextBackgroundFetch, now)
    }

    /// Exponential backoff from ``firstRetrySeconds``, capped, with ±20 % jitter so a fleet restarted together
    /// does not retry in step. `jitter` is a random number in 0...1, passed in so tests choose it.
    func retryDelay(jitter: Double) -> Double {
        let exponent = min(consecutiveFailures - 1, 16)
        let base = min(Self.firstRetrySeconds * Double(1 << exponent), Self.maximumRetrySeconds, refreshSeconds)
        return base * (0.8 + 0.4 * min(max(jitter, 0), 1))
    }
}
