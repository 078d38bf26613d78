/// How tokenmint finds the Redis node that holds the shared token.
public enum RedisMode: Sendable, Equatable {
    /// `REDIS_URL` names the one server.
    case standalone
    /// `REDIS_SENTINELS` and `REDIS_SENTINEL_MASTER`: the sentinels name the primary, and name it again after a
    /// failover.
    case sentinel(RedisSentinelSettings)
    /// `REDIS_CLUSTER=true`: `REDIS_URL` names any node of a Redis Cluster; `MOVED` and `ASK` lead to the slot's
    /// node.
    case cluster
}
