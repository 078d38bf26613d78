/// The token this replica serves, read by every request.
///
/// The hot path never signs and never waits on I/O. Writers (the refresher) replace the whole value. Each event loop
/// reads through its own ``Reader``: one atomic load per request, and the lock only after a change, since a lock
/// taken by every request from every core moves its cache line between the cores each time.
public final class TokenCache: Sendable {
    public let timing: TokenTiming
    private let state = VersionedValue(State())

    struct State: Sendable {
        var snapshot: Snapshot?
        /// The last generation handed out; kept across ``TokenCache/clear()``, so a token stored after a clear
        /// never reuses the number of one before it (an answer cached by generation would pair them).
        var generation: UInt64 = 0
    }

    /// The token with a generation number that changes whenever the token does, so a response cache built from it
    /// knows when to rebuild.
    public struct Snapshot: Sendable {
        public let token: MiroToken
        public let generation: UInt64
    }

    public init(timing: TokenTiming) {
        self.timing = timing
    }

    /// The token to hand out at `now`, or nil when none has enough life left (the caller answers 503).
    public func servable(at now: Double) -> Snapshot? {
        guard let snapshot = state.value.snapshot, timing.isServable(snapshot.token, at: now) else {
            return nil
        }
        return snapshot
    }

    /// One thread's view of a cache (see ``VersionedValue/Reader``): the lock only after a change.
    public struct Reader {
        private var state = VersionedValue<State>.Reader()

        public init() {}

        /// As ``TokenCache/servable(at:)``.
        public mutating func servable(from cache: TokenCache, at now: Double) -> Snapshot? {
            guard let snapshot = state.value(of: cache.state).snapshot, cache.timing.isServable(snapshot.token, at: now)
            else { return nil }
            return snapshot
        }
    }

    /// The token held, servable or not.
    public var held: MiroToken? { state.value.snapshot?.token }

    /// Replaces the held token unless it would go backwards in time.
    ///
    /// - Parameter replacingNewer: replace even a token that expires later. The refresher's source knows best: a
    ///   replica that minted its own token while Redis was away must take the fleet's token on rejoining, although
    ///   its own is newer, or the fleet would not converge until the next window.
    /// - Returns: whether `token` is now the one served.
    @discardableResult
    public func store(_ token: MiroToken, replacingNewer: Bool = false) -> Bool {
        state.update { state in
            if let existing = state.snapshot {
                if existing.token == token { return (true, changed: false) }
                if existing.token.expiresAt > token.expiresAt, !replacingNewer { return (false, changed: false) }
            }
            state.generation &+= 1
            state.snapshot = Snapshot(token: token, generation: state.generation)
            return (true, changed: true)
        }
    }

    /// Forgets the token (graceful shutdown, secret rotation).
    public func clear() {
        state.update { state in
            state.snapshot = nil
            return ((), changed: true)
        }
    }
}
