import CoreMetrics

/// The token's own metrics, created once against a given factory so that several servers (in tests) never share
/// a global registry.
public struct TokenMetrics: Sendable {
    /// `tokenmint_tokens_minted_total`: tokens signed by this replica.
    public let minted: Counter
    /// `tokenmint_token_expiry_timestamp_seconds`: `exp` of the token being served. Set whenever it changes, so it
    /// stays true between scrapes.
    public let expiry: Gauge
    /// `tokenmint_token_refresh_failures_total`: attempts at the shared store that produced no token.
    public let refreshFailures: Counter
    /// `tokenmint_degraded`: 1 while the replica mints on its own because the shared store failed, 0 when it works.
    public let degraded: Gauge

    public init(factory: any MetricsFactory) {
        minted = Counter(label: "tokenmint_tokens_minted_total", factory: factory)
        expiry = Gauge(label: "tokenmint_token_expiry_timestamp_seconds", factory: factory)
        refreshFailures = Counter(label: "tokenmint_token_refresh_failures_total", factory: factory)
        degraded = Gauge(label: "tokenmint_degraded", factory: factory)
    }
}
