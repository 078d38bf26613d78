/// The window arithmetic shared by every replica (DESIGN.md, "Timing").
///
/// With TTL and MIN the two settings, a token is servable for `window = TTL - MIN` seconds. A replica starts
/// refreshing when the held token's remaining life drops to `MIN + f × window`, `f` drawn per replica and window from
/// 25–35 %, so replicas do not stampede and the new token is in hand long before the old one stops being servable.
public struct TokenTiming: Sendable, Equatable {
    public let ttlSeconds: Int
    public let minRemainingSeconds: Int

    public init(ttlSeconds: Int, minRemainingSeconds: Int) {
        self.ttlSeconds = ttlSeconds
        self.minRemainingSeconds = minRemainingSeconds
    }

    public var windowSeconds: Int { ttlSeconds - minRemainingSeconds }

    /// The range refresh-ahead draws its fraction of the window from.
    public static let refreshAheadFractions: ClosedRange<Double> = 0.25...0.35

    /// Whether `token` may be handed out at `now`.
    public func isServable(_ token: MiroToken, at now: Double) -> Bool {
        token.remaining(at: now) >= Double(minRemainingSeconds)
    }

    /// When to start refreshing `token`, as Unix seconds, for a fraction drawn from ``refreshAheadFractions``.
    public func refreshTime(for token: MiroToken, fraction: Double) -> Double {
        Double(token.expiresAt) - Double(minRemainingSeconds) - fraction * Double(windowSeconds)
    }

    /// The fraction is `lower + u × (upper - lower)` for u uniform in [0, 1) from the top 53 bits of one draw (a
    /// generator that answers 0 gives the lower bound: tests name exact schedules with it).
    public func refreshTime<G: RandomNumberGenerator>(for token: MiroToken, using generator: inout G) -> Double {
        let unit = Double(generator.next() >> 11) / Double(UInt64(1) << 53)
        let fractions = Self.refreshAheadFractions
        return refreshTime(
            for: token,
            fraction: fractions.lowerBound + unit * (fractions.upperBound - fractions.lowerBound)
        )
    }

    /// Clock skew tolerated between replicas when judging the times of a token another replica minted.
    public static let skewSeconds = 5

    /// Whether a token from the shared store has times a replica of this fleet could have minted by `now`: `iat` no
    /// later than `now` + skew, a lifetime (`exp - iat`) of at most the TTL, and `exp` no later than `now` + TTL +
    /// skew.
    ///
    /// - Important: A token that fails is never adopted and is replaced under the lock like garbage, however well
    ///   signed: a token with a week-long `exp` (from an older backend, or a replica with a larger TTL) would
    ///   otherwise stop every replica refreshing until near its `exp`.
    public func isPlausible(_ token: MiroToken, at now: Double) -> Bool {
        let skew = Double(Self.skewSeconds)
        return Double(token.issuedAt) <= now + skew
            && token.expiresAt - token.issuedAt <= ttlSeconds
            && Double(token.expiresAt) <= now + Double(ttlSeconds) + skew
    }

    /// Whether a shared token is worth adopting at `now`: its life left is above the latest point at which any
    /// replica starts refreshing (MIN + the largest refresh-ahead fraction of the window, plus a second), so an
    /// adopted token is never already due, and a replica at its refresh point never adopts the token it replaces.
    public func isFresh(_ token: MiroToken, at now: Double) -> Bool {
        let threshold =
            Double(minRemainingSeconds) + Self.refreshAheadFractions.upperBound * Double(windowSeconds) + 1
        return token.remaining(at: now) > threshold
    }
}
