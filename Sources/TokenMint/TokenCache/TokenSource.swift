import CoreMetrics
/// Where the next token comes from: minted here, or adopted from (and coordinated through) a shared store.
///
/// This is the seam the Redis-shared store slots into. ``TokenRefresher`` calls it off the hot path, one call at a
/// time; the HTTP handler never does.
public protocol TokenSource: Sendable {
    /// Produces the token to serve next.
    ///
    /// - Parameters:
    ///   - held: the token currently served, if any (a shared store may hand back a newer one, or this one).
    ///   - now: Unix seconds.
    /// - Returns: a token servable at `now`.
    /// - Throws: when no token could be produced; the refresher keeps serving `held` and retries with backoff.
    func nextToken(held: MiroToken?, now: Double) async throws -> MiroToken

    /// How soon the source wants to be asked again, when that is before the held token's refresh time: a shared
    /// store that is serving a token of its own while the store was unreachable asks to rejoin the fleet once its
    /// backoff is over, rather than a whole window later. nil: at the refresh time, as usual.
    var rejoinDelay: Duration? { get }
}

extension TokenSource {
    public var rejoinDelay: Duration? { nil }
}

/// One replica on its own: mints a fresh token with the secret, which is all it needs.
public struct LocalTokenSource: TokenSource {
    let signer: MiroTokenSigner
    let timing: TokenTiming
    let metrics: TokenMetrics

    public init(signer: MiroTokenSigner, timing: TokenTiming, metrics: TokenMetrics) {
        self.signer = signer
        self.timing = timing
        self.metrics = metrics
    }

    public func nextToken(held: MiroToken?, now: Double) async throws -> MiroToken {
        mint(now: now)
    }

    /// Signs a fresh token and counts it.
    public func mint(now: Double) -> MiroToken {
        let token = signer.mint(now: now, ttl: timing.ttlSeconds)
        metrics.minted.increment()
        return token
    }
}
