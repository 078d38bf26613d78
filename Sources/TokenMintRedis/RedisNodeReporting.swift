import TokenMint

/// What `/readyz` and the logs say of a Redis connection: the node it uses and whether its last check found it
/// usable.
public protocol RedisNodeReporting: Sendable {
    /// The node commands go to now (`host:port`); nil while none is known (the sentinels name no usable primary).
    var nodeInUse: RedisNodeAddress? { get }
    /// False from a failed health check until a check or a command succeeds again; a connection without a health
    /// check is always healthy here (its refreshes report its state).
    var isHealthy: Bool { get }
}

extension HiredisConnection: RedisNodeReporting {
    public var nodeInUse: RedisNodeAddress? { node }
    public var isHealthy: Bool { true }
}

extension RedisError {
    /// Any error as a ``RedisError``: the connections throw only these, but a cancellation may surface.
    static func from(_ error: any Error) -> RedisError {
        (error as? RedisError) ?? RedisError(.io, "\(error)")
    }
}
