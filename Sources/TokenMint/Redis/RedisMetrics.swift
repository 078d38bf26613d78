import CoreMetrics

/// Redis-shared mode's metrics, created against the factory the server renders.
public struct RedisMetrics: Sendable {
    /// `tokenmint_redis_errors_total`: failed Redis calls, refusals, and values in Redis that failed verification.
    public let errors: Counter
    /// `tokenmint_degraded`: 1 while the replica mints on its own because Redis failed, 0 when Redis works.
    public let degraded: Gauge
    /// `tokenmint_tokens_adopted_total`: tokens taken from Redis rather than minted here.
    public let adopted: Counter

    public init(factory: any MetricsFactory) {
        errors = Counter(label: "tokenmint_redis_errors_total", factory: factory)
        degraded = Gauge(label: "tokenmint_degraded", factory: factory)
        adopted = Counter(label: "tokenmint_tokens_adopted_total", factory: factory)
    }
}
