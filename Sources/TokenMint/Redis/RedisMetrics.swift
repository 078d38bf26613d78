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
    /// `tokenmint_redis_commands_total`: every command sent to Redis or a sentinel (refreshes, health checks,
    /// lookups, redirects), so the traffic a replica makes is visible and bounded.
    public let commands: Counter
    /// `tokenmint_redis_failovers_total`: times the node in use changed to another primary (Sentinel named a new
    /// one).
    public let failovers: Counter
    /// `tokenmint_redis_redirects_total{kind="moved"}`: Cluster `MOVED` redirects followed.
    public let movedRedirects: Counter
    /// `tokenmint_redis_redirects_total{kind="ask"}`: Cluster `ASK` redirects followed.
    public let askRedirects: Counter

    public init(factory: any MetricsFactory) {
        errors = Counter(label: "tokenmint_redis_errors_total", factory: factory)
        tlsFailures = Counter(label: "tokenmint_redis_tls_failures_total", factory: factory)
        adopted = Counter(label: "tokenmint_tokens_adopted_total", factory: factory)
        commands = Counter(label: "tokenmint_redis_commands_total", factory: factory)
        failovers = Counter(label: "tokenmint_redis_failovers_total", factory: factory)
        movedRedirects = Counter(
            label: "tokenmint_redis_redirects_total",
            dimensions: [("kind", "moved")],
            factory: factory
        )
        askRedirects = Counter(
            label: "tokenmint_redis_redirects_total",
            dimensions: [("kind", "ask")],
            factory: factory
        )
    }
}
