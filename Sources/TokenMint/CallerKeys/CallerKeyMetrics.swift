import CoreMetrics

/// Metrics of the identity provider's keys, created once against a given factory.
public struct CallerKeyMetrics: Sendable {
    /// `tokenmint_caller_keys_refresh_failures_total`: fetches (background or for an unknown `kid`) that produced
    /// no usable key set.
    public let refreshFailures: Counter
    /// `tokenmint_caller_keys_fetches_total`: fetches started, successful or not.
    public let fetches: Counter
    /// `tokenmint_caller_keys_age_seconds`: age of the key set in use (-1 before the first success). Updated at
    /// least every few seconds by the refresh loop.
    public let age: Gauge

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        refreshFailures = Counter(label: "tokenmint_caller_keys_refresh_failures_total", factory: factory)
        fetches = Counter(label: "tokenmint_caller_keys_fetches_total", factory: factory)
        age = Gauge(label: "tokenmint_caller_keys_age_seconds", factory: factory)
    }
}
