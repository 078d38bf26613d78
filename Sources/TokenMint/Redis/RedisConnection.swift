/// A connection to one Redis server, as the shared store needs it: one command at a time, every call bounded.
///
/// The domain owns this protocol; `TokenMintRedis` implements it over hiredis, and tests implement it in memory.
///
/// - Important: Implementations must bound every call (connect, name resolution and command together) and throw a
///   ``RedisError`` rather than hang; they reconnect by themselves, with backoff, on the next call after a failure.
///   A `-ERR` reply is not an error at this level: it comes back as ``RedisReply/error(_:)``.
public protocol RedisConnection: Sendable {
    /// Sends one command (`["SET", key, value, "NX", "PX", "2000"]`) and returns its reply.
    func send(_ arguments: [String]) async throws -> RedisReply

    /// Drops the connection (graceful shutdown).
    func close() async
}
