/// Every "when next, and from where" of a replica's token, as one state machine with no I/O: when to refresh, when to
/// retry, when to rejoin the shared store after an outage, and whether the next token is the fleet's or minted here.
///
/// The driver (``TokenRefresher``) calls ``next(now:held:after:using:)`` with the time, the token it holds and what
/// its last action came to, performs the ``Action`` it gets, and calls again. The clock and the randomness are the
/// driver's, so a test checks a schedule exactly and a simulation runs a fleet's hour in seconds.
///
/// ```
///            ┌──────────── not due, sharing ok ─────────────▶ sleep until the refresh point
/// woke ──────┤ due (or nothing held) ─ store usable ─▶ tryShared ─ adopted / stored ─▶ adopt (even an older token)
///            │                       └ backing off ─▶ mintLocally ─▶ adopt   └ failed ─▶ degraded: backoff; held
///            └ degraded, backoff over ─▶ tryShared (rejoin)                     token kept while not due, else mint
/// adopted ─ token already due ─▶ sleep a retry backoff (never spin) ─ else ─▶ sleep until min(refresh point, rejoin)
/// ```
///
/// - Important: One backoff per outage: after a failed attempt the store is left alone for ``sharedBackoff``
///   (``sharedInitialBackoff`` doubling to ``sharedMaximumBackoff``, jittered), during which the replica serves the
///   token it holds, minting its own only when that one is due; the store's connection retries nothing by itself. The
///   first attempt after the backoff is made at once, due or not (the replica rejoins the fleet without waiting a
///   window), and the first success resets it. A token that is already due when adopted is asked again only after
///   ``retryBackoff``, so nothing spins.
public struct RefreshPolicy: Sendable {
    public enum Action: Equatable, Sendable {
        /// Sleep until this Unix time; then report ``Outcome/woke``.
        case sleep(until: Double)
        /// Make one attempt at the shared store; then report ``Outcome/shared(_:)``.
        case tryShared
        /// Mint a token here; then report ``Outcome/minted(_:)``.
        case mintLocally
        /// Serve this token from now on, replacing the held one even when that expires later (the fleet's token
        /// wins on rejoining); then report ``Outcome/adopted``.
        case adopt(MiroToken)
    }

    public enum Outcome: Equatable, Sendable {
        /// The first call, or a sleep ended.
        case woke
        case shared(SharedAttempt)
        case minted(MiroToken)
        /// The token of the last ``Action/adopt(_:)`` is the one held now.
        case adopted
    }

    /// Whether the replica shares the fleet's token.
    public enum Sharing: String, Sendable {
        /// No shared store is configured: every token is minted here.
        case disabled
        /// Not tried yet.
        case unknown
        case ok
        /// The last attempt failed: the replica serves a token of its own and retries after a backoff.
        case degraded
    }

    public static let sharedInitialBackoff: Duration = .seconds(1)
    public static let sharedMaximumBackoff: Duration = .seconds(30)
    public static let retryInitialBackoff: Duration = .milliseconds(100)
    public static let retryMaximumBackoff: Duration = .seconds(5)

    public let timing: TokenTiming
    public private(set) var sharing: Sharing
    /// While degraded: when the store may be tried again.
    public private(set) var rejoinAt: Double?
    /// What the last failed attempt reported; nil once an attempt succeeds.
    public private(set) var lastFailure: RedisError?
    private var sharedBackoff = Backoff(initial: sharedInitialBackoff, maximum: sharedMaximumBackoff)
    private var retryBackoff = Backoff(initial: retryInitialBackoff, maximum: retryMaximumBackoff)
    /// After adopting a token that was already due: ask for another no sooner than this.
    private var retryAt: Double?
    /// The refresh point drawn for the held token (once per token, so a replica's point does not wander).
    private var drawn: (token: String, at: Double)?

    /// - Parameter shared: whether a shared store is configured.
    public init(timing: TokenTiming, shared: Bool) {
        self.timing = timing
        self.sharing = shared ? .unknown : .disabled
    }

    /// The next thing to do.
    ///
    /// - Parameters:
    ///   - now: Unix seconds.
    ///   - held: the token served now, if any.
    ///   - outcome: what the previous action came to.
    public mutating func next(
        now: Double,
        held: MiroToken?,
        after outcome: Outcome,
        using random: inout some RandomNumberGenerator
    ) -> Action {
        switch outcome {
        case .woke:
            return decide(now: now, held: held, using: &random)
        case .minted(let token):
            return .adopt(token)
        case .shared(.adopted(let token)), .shared(.stored(let token)):
            sharing = .ok
            rejoinAt = nil
            lastFailure = nil
            sharedBackoff.reset()
            return .adopt(token)
        case .shared(.storeFailed(let token, let error)):
            degrade(now: now, because: error, using: &random)
            return .adopt(token)
        case .shared(.failed(let error)):
            degrade(now: now, because: error, using: &random)
            // A rejoin attempt that failed changes nothing: keep serving the held token until it is due.
            if let held, !isDue(held, at: now, using: &random) { return sleep(now: now, held: held, using: &random) }
            return .mintLocally
        case .adopted:
            guard let held else { return decide(now: now, held: nil, using: &random) }
            if isDue(held, at: now, using: &random) {
                // Handed a token that is already due (a store still holding the old one): wait before asking again.
                retryAt = now + retryBackoff.next(using: &random).seconds
            } else {
                retryAt = nil
                retryBackoff.reset()
            }
            return sleep(now: now, held: held, using: &random)
        }
    }

    /// When the held token's refresh is due: its remaining life drops to MIN + a fraction of the window drawn from
    /// ``TokenTiming/refreshAheadFractions`` (once per token).
    public mutating func refreshPoint(of token: MiroToken, using random: inout some RandomNumberGenerator) -> Double {
        if let drawn, drawn.token == token.compact { return drawn.at }
        let at = timing.refreshTime(for: token, using: &random)
        drawn = (token.compact, at)
        return at
    }

    private mutating func decide(
        now: Double,
        held: MiroToken?,
        using random: inout some RandomNumberGenerator
    )
        -> Action
    {
        if let retryAt, now < retryAt { return .sleep(until: retryAt) }
        let storeUsable = sharing != .disabled && (rejoinAt.map { now >= $0 } ?? true)
        guard let held, !isDue(held, at: now, using: &random) else { return storeUsable ? .tryShared : .mintLocally }
        // A degraded replica rejoins as soon as its backoff allows; one that has not asked the store yet (a refresher
        // started beside a token it did not get from the store: a secret reload) asks before it sleeps.
        if sharing == .degraded || sharing == .unknown, storeUsable { return .tryShared }
        return sleep(now: now, held: held, using: &random)
    }

    private mutating func sleep(
        now: Double,
        held: MiroToken,
        using random: inout some RandomNumberGenerator
    )
        -> Action
    {
        var wake = refreshPoint(of: held, using: &random)
        if sharing == .degraded, let rejoinAt { wake = min(wake, rejoinAt) }
        if let retryAt { wake = max(wake, retryAt) }
        return .sleep(until: wake)
    }

    private mutating func isDue(
        _ token: MiroToken,
        at now: Double,
        using random: inout some RandomNumberGenerator
    )
        -> Bool
    {
        now >= refreshPoint(of: token, using: &random) || !timing.isServable(token, at: now)
    }

    private mutating func degrade(
        now: Double,
        because error: RedisError,
        using random: inout some RandomNumberGenerator
    ) {
        sharing = .degraded
        lastFailure = error
        rejoinAt = now + sharedBackoff.next(using: &random).seconds
    }
}
