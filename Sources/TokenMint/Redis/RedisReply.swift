/// One reply from Redis, as Swift values: what the shared store needs of RESP2 and nothing more.
public enum RedisReply: Sendable, Equatable {
    /// `$-1` / `*-1`: no such key, or `SET ... NX` that did not set.
    case null
    /// `:n`
    case integer(Int64)
    /// A bulk string, as bytes (a value read back may be anything someone wrote).
    case bulk([UInt8])
    /// `+OK` and other simple strings.
    case status(String)
    /// `-ERR ...`: the server refused the command. Not thrown by the connection: the caller decides what it means.
    case error(String)
    case array([RedisReply])
}
