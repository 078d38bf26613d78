import CoreMetrics

/// Redis-shared mode's metrics, created against the factory the server renders.
public struct RedisMetrics: Sendable {
    /// `tokenmint_redis_errors_total`: failed Redis calls, refusals, and values in Redis that failed verification.
    public let errors: Counter
    /// `tokenmint_redis_tls_failures_total`: failed attempts whose cause was TLS (a certificate that does not verify,
    /// a wrong name, a plaintext server behind `rediss://`); each is also in ``errors``.
    public let tlsFailures: Counter
    /// `tokenmint_tokens_adopted_total`: tokens taken from Redis rather than minted here.
    public let adopted: Counter

    public init(factory: any MetricsFactory) {
        errors = Counter(label: "tokenmint_redis_errors_total", factory: factory)
        tlsFailures = Counter(label: "tokenmint_redis_tls_failures_total", factory: factory)
        adopted = Counter(label: "tokenmint_tokens_adopted_total", factory: factory)
    }
}
