import CHiredis
import TokenMint

#if canImport(Glibc)
import Glibc
#endif

/// One open connection to one Redis server, as ``HiredisConnection`` uses it on its queue: a command in, its reply
/// out, within a bound. hiredis is the protocol implementation under both kinds: over plain TCP it does the I/O too
/// (``PlainTransport``); over TLS it formats and parses while OpenSSL carries the bytes (``TLSTransport``).
///
/// - Important: Confined to the connection's serial queue. Every call blocks for at most its timeout; a failure
///   throws ``RedisError`` and the connection is then closed, never reused.
protocol RedisTransport: AnyObject {
    func command(_ arguments: [[UInt8]], timeoutMilliseconds: Int) throws -> RedisReply
    func close()
}

/// Plain TCP: hiredis's own blocking I/O (`redisCommandArgv`), bounded by `redisSetTimeout`.
final class PlainTransport: RedisTransport {
    private let context: UnsafeMutablePointer<redisContext>
    private var timeoutMilliseconds: Int?

    init(context: UnsafeMutablePointer<redisContext>) {
        self.context = context
    }

    func command(_ arguments: [[UInt8]], timeoutMilliseconds: Int) throws -> RedisReply {
        if self.timeoutMilliseconds != timeoutMilliseconds {
            redisSetTimeout(context, Hiredis.timeval(milliseconds: timeoutMilliseconds))
            self.timeoutMilliseconds = timeoutMilliseconds
        }
        let raw = Hiredis.withArgv(arguments) { count, pointers, lengths in
            redisCommandArgv(context, count, pointers, lengths)
        }
        guard let raw else { throw Hiredis.ioError(context) }
        defer { freeReplyObject(raw) }
        return Hiredis.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    func close() { redisFree(context) }
}

/// The hiredis calls both transports share.
enum Hiredis {
    /// Opens a TCP connection with hiredis (name resolution and connect, bounded by `milliseconds` except for name
    /// resolution, which ``HiredisConnection``'s deadline bounds).
    static func connect(_ settings: RedisSettings) throws -> UnsafeMutablePointer<redisContext> {
        let timeout = timeval(milliseconds: settings.connectTimeoutMilliseconds)
        guard let context = redisConnectWithTimeout(settings.host, Int32(settings.port), timeout) else {
            throw RedisError(.connect, "cannot allocate a hiredis context")
        }
        if context.pointee.err != 0 {
            let error = RedisError(.connect, "cannot connect to \(settings.address): \(errorString(context))")
            redisFree(context)
            throw error
        }
        return context
    }

    /// Calls `body` with the C argument vector of `arguments` (binary-safe: with lengths).
    static func withArgv<Result>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafeMutablePointer<Int>) -> Result
    ) -> Result {
        let copies = arguments.map { bytes -> UnsafeMutablePointer<CChar> in
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { copy.initialize(from: $0.baseAddress!, count: $0.count) }
            }
            return copy
        }
        defer { copies.forEach { $0.deallocate() } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        var lengths: [Int] = arguments.map(\.count)
        return body(Int32(arguments.count), &pointers, &lengths)
    }

    static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        func bytes() -> [UInt8] {
            guard let str = value.str else { return [] }
            return str.withMemoryRebound(to: UInt8.self, capacity: value.len) {
                Array(UnsafeBufferPointer(start: $0, count: value.len))
            }
        }
        switch value.type {
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_INTEGER: return .integer(value.integer)
        case REDIS_REPLY_STRING: return .bulk(bytes())
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            for index in 0..<value.elements {
                elements.append(value.element?[index].map(convert) ?? .null)
            }
            return .array(elements)
        default: return .error("unknown reply type \(value.type)")
        }
    }

    static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: &context.pointee.errstr) { buffer in
            let bytes = buffer.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    static func ioError(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        let text = errorString(context)
        if text.contains("temporarily unavailable") || text.contains("timed out") {
            return RedisError(.timeout, "no answer within the command timeout (\(text))")
        }
        if context.pointee.err == REDIS_ERR_EOF {
            return RedisError(.io, "the server closed the connection")
        }
        return RedisError(.io, text.isEmpty ? "I/O error" : text)
    }

    static func timeval(milliseconds: Int) -> Glibc.timeval {
        Glibc.timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
    }
}
