import Logging
import Prometheus
import TokenMint

/// What every connection's handler shares: built once per server; only the verifier and the token change.
struct HandlerEnvironment: Sendable {
    let cache: TokenCache
    /// The caller verifier in force; a secret reload replaces it between two requests.
    let verifiers: CallerVerifierHolder
    let cors: CORSPolicy
    let metrics: ServerMetrics
    let registry: PrometheusCollectorRegistry
    let readiness: Readiness
    let logger: Logger
    let now: @Sendable () -> Double
    /// What `/readyz` says of Redis: `disabled` without `REDIS_URL`, else `ok` or `degraded` (still ready).
    let redisState: @Sendable () -> String
    /// The Redis node in use (`host:port`, `none` while none is known), named in `/readyz`; nil without Redis.
    var redisNode: @Sendable () -> String? = { nil }
    /// The identity provider's keys: `loading` until the first fetch succeeded (then `/readyz` is 503), `fresh`
    /// or `stale`; `fresh` when keys come from files or no public-key verifier is configured.
    let callerKeysState: @Sendable () -> CallerKeyRefreshStateMachine.Health
}
