import CHiredis
import Dispatch
import Synchronization
import TokenMint

#if canImport(Glibc)
import Glibc
#endif

/// The domain's ``RedisConnection`` over hiredis 0.14 (blocking API): one connection at a time, every hiredis call
/// on a dedicated serial Dispatch queue, never on an event loop or the Swift concurrency pool.
///
/// - Important: Every ``send(_:)`` is bounded from the caller's side too: hiredis bounds connect and socket I/O
///   (`redisConnectWithTimeout`, `redisSetTimeout`) but not name resolution, so a call that has not answered by its
///   deadline throws ``RedisError/Kind-swift.struct/timeout`` while the queue finishes (or stays stuck in
///   `getaddrinfo`) on its own; calls made meanwhile fail at once rather than queue up behind it. After a failure the
///   connection is dropped, and the next connect waits out an exponential backoff with jitter.
public final class HiredisConnection: RedisConnection, @unchecked Sendable {
    public let settings: RedisSettings
    private let queue = DispatchQueue(label: "tokenmint.redis.hiredis")
    /// True from the moment a call is handed to the queue until the queue has finished it.
    private let busy = Atomic<Bool>(false)

    // Confined to `queue`.
    private var context: UnsafeMutablePointer<redisContext>?
    private var reconnectAt: ContinuousClock.Instant?
    private var lastFailure = ""
    private var backoff = Backoff(initial: .milliseconds(50), maximum: .seconds(2))

    public init(settings: RedisSettings) {
        self.settings = settings
    }

    deinit {
        if let context { redisFree(context) }
    }

    public func send(_ arguments: [String]) async throws -> RedisReply {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            throw RedisError(.timeout, "the previous Redis call has not returned yet")
        }
        return try await onQueue {
            defer { self.busy.store(false, ordering: .releasing) }
            return try self.blockingSend(arguments)
        }
    }

    /// Bounded like every call: shutdown does not wait for a queue still stuck in name resolution, which frees the
    /// connection when it gets there.
    public func close() async {
        try? await onQueue { self.disconnect() }
    }

    /// How long a caller waits for the queue: the connect and command timeouts, and a little for the hop.
    private var budgetMilliseconds: Int {
        settings.connectTimeoutMilliseconds + settings.commandTimeoutMilliseconds + 50
    }

    /// Runs `body` on the queue; throws ``RedisError/Kind-swift.struct/timeout`` once the budget has passed, and the
    /// queue finishes the work on its own.
    private func onQueue<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        let budget = budgetMilliseconds
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
            let once = ResumeOnce(continuation)
            queue.async { once.resume(Result(catching: body)) }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(budget)) {
                once.resume(.failure(RedisError(.timeout, "no answer within \(budget) ms")))
            }
        }
    }

    // MARK: On the queue

    private func blockingSend(_ arguments: [String]) throws -> RedisReply {
        let context = try connected()
        do {
            return try command(context, arguments.map { Array($0.utf8) })
        } catch {
            fail(error)
            throw error
        }
    }

    private func connected() throws -> UnsafeMutablePointer<redisContext> {
        if let context { return context }
        if let reconnectAt, reconnectAt > .now {
            throw RedisError(
                .connect,
                "reconnecting to \(settings.address) in \(Int((reconnectAt - .now) / .milliseconds(1))) ms "
                    + "(last failure: \(lastFailure))"
            )
        }
        let timeout = Self.timeval(milliseconds: settings.connectTimeoutMilliseconds)
        guard let context = redisConnectWithTimeout(settings.host, Int32(settings.port), timeout) else {
            let error = RedisError(.connect, "cannot allocate a hiredis context")
            fail(error)
            throw error
        }
        if context.pointee.err != 0 {
            let error = RedisError(
                .connect,
                "cannot connect to \(settings.address): \(Self.errorString(context))"
            )
            redisFree(context)
            fail(error)
            throw error
        }
        self.context = context
        do {
            // AUTH and SELECT count against the connect timeout.
            redisSetTimeout(context, Self.timeval(milliseconds: settings.connectTimeoutMilliseconds))
            if let password = settings.password {
                var arguments: [[UInt8]] = [Array("AUTH".utf8)]
                if let user = settings.user { arguments.append(Array(user.utf8)) }
                arguments.append(password.bytes)
                if case .error(let message) = try command(context, arguments) {
                    throw RedisError(.authentication, "AUTH refused by \(settings.address): \(message)")
                }
            }
            if settings.database != 0 {
                let select = [Array("SELECT".utf8), Array("\(settings.database)".utf8)]
                if case .error(let message) = try command(context, select) {
                    throw RedisError(.reply, "SELECT \(settings.database) refused: \(message)")
                }
            }
            redisSetTimeout(context, Self.timeval(milliseconds: settings.commandTimeoutMilliseconds))
        } catch {
            fail(error)
            throw error
        }
        backoff.reset()
        reconnectAt = nil
        return context
    }

    private func command(_ context: UnsafeMutablePointer<redisContext>, _ arguments: [[UInt8]]) throws -> RedisReply {
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
        let raw = redisCommandArgv(context, Int32(arguments.count), &pointers, &lengths)
        guard let raw else {
            throw Self.ioError(context)
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.convert(reply)
    }

    private func fail(_ error: any Error) {
        disconnect()
        lastFailure = "\(error)"
        reconnectAt = ContinuousClock.now.advanced(by: backoff.next())
    }

    private func disconnect() {
        if let context { redisFree(context) }
        context = nil
    }

    // MARK: Conversions

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

/// Resumes a continuation exactly once: whichever of the answer and the deadline comes first.
final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, any Error>?>

    init(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ result: Result<Value, any Error>) {
        let pending = continuation.withLock { current -> CheckedContinuation<Value, any Error>? in
            defer { current = nil }
            return current
        }
        pending?.resume(with: result)
    }
}
