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

    public func refreshTime<G: RandomNumberGenerator>(for token: MiroToken, using generator: inout G) -> Double {
        refreshTime(for: token, fraction: Double.random(in: Self.refreshAheadFractions, using: &generator))
    }
}
