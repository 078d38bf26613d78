import CoreMetrics

/// Mints a fresh token with the secret, which is all a replica needs, and counts it.
public struct TokenMinter: Sendable {
    let signer: MiroTokenSigner
    let timing: TokenTiming
    let metrics: TokenMetrics

    public init(signer: MiroTokenSigner, timing: TokenTiming, metrics: TokenMetrics) {
        self.signer = signer
        self.timing = timing
        self.metrics = metrics
    }

    /// Whether `token` is signed with this minter's secret and client ID.
    public func signed(_ token: MiroToken) -> Bool {
        signer.verify(token.compact) != nil
    }

    /// A token issued at `now` that lives the TTL.
    public func mint(now: Double) -> MiroToken {
        let token = signer.mint(now: now, ttl: timing.ttlSeconds)
        metrics.minted.increment()
        return token
    }
}
