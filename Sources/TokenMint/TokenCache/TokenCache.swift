import Synchronization

/// The token this replica serves, read by every request.
///
/// The hot path only takes a short, uncontended lock to copy a reference-counted value out: it never signs, never
/// waits on I/O. Writers (the refresher) replace the whole value.
public final class TokenCache: Sendable {
    public let timing: TokenTiming
    private let state = Mutex<Snapshot?>(nil)

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
        guard let snapshot = state.withLock({ $0 }), timing.isServable(snapshot.token, at: now) else { return nil }
        return snapshot
    }

    /// The token held, servable or not.
    public var held: MiroToken? { state.withLock { $0?.token } }

    /// Replaces the held token unless it would go backwards in time.
    ///
    /// - Parameter replacingNewer: replace even a token that expires later. The refresher's source knows best: a
    ///   replica that minted its own token while Redis was away must take the fleet's token on rejoining, although
    ///   its own is newer, or the fleet would not converge until the next window.
    /// - Returns: whether `token` is now the one served.
    @discardableResult
    public func store(_ token: MiroToken, replacingNewer: Bool = false) -> Bool {
        state.withLock { current in
            if let existing = current {
                if existing.token == token { return true }
                if existing.token.expiresAt > token.expiresAt, !replacingNewer { return false }
            }
            current = Snapshot(token: token, generation: (current?.generation ?? 0) &+ 1)
            return true
        }
    }

    /// Forgets the token (graceful shutdown, secret rotation).
    public func clear() { state.withLock { $0 = nil } }
}
