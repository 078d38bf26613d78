/// One shared refresh, as a state machine that says what to do next: the decision logic of
/// ``RedisTokenSource`` with no I/O, so it is unit-tested with a made-up clock.
///
/// The driver performs each ``Action`` and reports what happened as the matching event; the machine never sleeps,
/// reads a clock or talks to Redis itself. Times are the driver's clock's seconds; the re-read jitter is drawn from a
/// generator seeded at start, so a test or a simulation replays exactly.
///
/// ```
/// read ─ fresh ─────────────────────────────────────────────▶ adopt
///   └ none ▶ takeLock ─ taken ▶ read ─ fresh ▶ release, adopt
///                │                └ none ▶ mintAndStore (then release)
///                └ lost ▶ wait ▶ read ─ fresh ▶ adopt
///                           ▲      └ none ─ lock still alive ┘
///                           └ lock expired ▶ takeLock (next round, at most maximumRounds)
/// ```
public struct SharedRefreshStateMachine: Sendable {
    public enum Action: Equatable, Sendable {
        /// `GET` the token; answer with ``readFinished(fresh:now:)``.
        case read
        /// `SET lock owner NX PX ttl`; answer with ``lockFinished(taken:now:)``.
        case takeLock(owner: String)
        /// Sleep this long, then answer ``waitFinished()``.
        case wait(Duration)
        /// Release the lock (compare-and-delete), then serve the token: done.
        case releaseAndAdopt(MiroToken, owner: String)
        /// Serve the token: done.
        case adopt(MiroToken)
        /// Mint, store with its expiry, release the lock: done.
        case mintAndStore(owner: String)
        /// Every round lost and no token appeared: done, as a Redis failure.
        case giveUp(RedisError)
    }

    enum State: Sendable {
        case reading(round: Int)
        case locking(round: Int)
        case readingUnderLock(round: Int)
        /// Lost the lock in `round`; it has expired by `until`, and at most `rereads` more re-reads wait for it (a
        /// bound of its own, should the clock step back).
        case losing(round: Int, until: Double, rereads: Int)
        case rereading(round: Int, until: Double, rereads: Int)
        case done
    }

    public let owner: String
    public let lockTTL: Duration
    public let rereadInterval: Duration
    public let rereadJitter: Duration
    public let maximumRounds: Int
    private(set) var state: State = .reading(round: 1)
    private var random: SeededRandom

    public init(
        owner: String,
        lockTTL: Duration = .seconds(2),
        rereadInterval: Duration = .milliseconds(50),
        rereadJitter: Duration = .milliseconds(10),
        maximumRounds: Int = 3,
        seed: UInt64 = .random(in: .min ... .max)
    ) {
        self.owner = owner
        self.lockTTL = lockTTL
        self.rereadInterval = rereadInterval
        self.rereadJitter = rereadJitter
        self.maximumRounds = maximumRounds
        self.random = SeededRandom(seed: seed)
    }

    /// Re-reads per lost round: enough to outlast the lock at the shortest jittered interval.
    var maximumRereads: Int {
        let shortest = max(rereadInterval - rereadJitter, .milliseconds(1))
        return Int(((lockTTL + rereadInterval) / shortest).rounded(.up)) + 1
    }

    /// The first action of a refresh.
    public func start() -> Action { .read }

    /// `fresh`: the verified token read, when fresh enough to adopt; nil when absent, stale or not ours.
    public mutating func readFinished(fresh: MiroToken?, now: Double) -> Action {
        switch state {
        case .reading(let round):
            if let fresh { return finish(.adopt(fresh)) }
            state = .locking(round: round)
            return .takeLock(owner: lockOwner(round))
        case .readingUnderLock(let round):
            if let fresh { return finish(.releaseAndAdopt(fresh, owner: lockOwner(round))) }
            return finish(.mintAndStore(owner: lockOwner(round)))
        case .rereading(let round, let until, let rereads):
            if let fresh { return finish(.adopt(fresh)) }
            if now < until, rereads > 0 {
                state = .losing(round: round, until: until, rereads: rereads - 1)
                return .wait(jitteredReread())
            }
            // The lock has expired: the winner died or stalled. Start over with the lock.
            guard round < maximumRounds else {
                return finish(.giveUp(RedisError(.lockContention, "no token after \(maximumRounds) lock rounds")))
            }
            state = .locking(round: round + 1)
            return .takeLock(owner: lockOwner(round + 1))
        case .locking, .losing, .done:
            preconditionFailure("readFinished in \(state)")
        }
    }

    public mutating func lockFinished(taken: Bool, now: Double) -> Action {
        guard case .locking(let round) = state else { preconditionFailure("lockFinished in \(state)") }
        if taken {
            // Someone may have stored a token between our GET and our SET NX.
            state = .readingUnderLock(round: round)
            return .read
        }
        // The lock was taken no later than our SET, so it has expired by then even if its holder died.
        state = .losing(round: round, until: now + (lockTTL + rereadInterval).seconds, rereads: maximumRereads)
        return .wait(jitteredReread())
    }

    public mutating func waitFinished() -> Action {
        guard case .losing(let round, let until, let rereads) = state else {
            preconditionFailure("waitFinished in \(state)")
        }
        state = .rereading(round: round, until: until, rereads: rereads)
        return .read
    }

    private mutating func finish(_ action: Action) -> Action {
        state = .done
        return action
    }

    private func lockOwner(_ round: Int) -> String { "\(owner):\(round)" }

    /// The re-read interval ± the jitter: `interval - jitter + u × 2 × jitter`, u uniform in [0, 1).
    private mutating func jitteredReread() -> Duration {
        let unit = Double(random.next() >> 11) / Double(UInt64(1) << 53)
        let spread = (rereadJitter * 2).nanoseconds
        return rereadInterval - rereadJitter + .nanoseconds(Int64((Double(spread) * unit).rounded(.down)))
    }
}
