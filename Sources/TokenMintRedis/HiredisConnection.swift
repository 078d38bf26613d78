import CHiredis
import CoreMetrics
import Dispatch
import Synchronization
import TokenMint

#if canImport(Glibc)
import Glibc
#endif

/// The domain's ``RedisConnection`` over hiredis 0.14 (blocking API): one connection at a time, plain TCP or TLS
/// (``RedisTransport``), every hiredis and OpenSSL call on a dedicated serial Dispatch queue, never on an event loop
/// or the Swift concurrency pool.
///
/// - Important: Every ``send(_:)`` is bounded from the caller's side too: hiredis bounds connect and socket I/O
///   (`redisConnectWithTimeout`, `redisSetTimeout`; the TLS handshake and records by `poll`) but not name
///   resolution, so a call that has not answered by its deadline throws ``RedisError/Kind-swift.struct/timeout``
///   while the queue finishes (or stays stuck in `getaddrinfo`) on its own; calls made meanwhile fail at once rather
///   than queue up behind it. After a failure the connection is dropped and the next call connects again: when to
///   make that call is ``RefreshPolicy``'s one backoff, so an outage never stacks a second backoff here.
public final class HiredisConnection: RedisConnection, @unchecked Sendable {
    public let settings: RedisSettings
    private let tls: TLSContext?
    /// Counts every command handed to the queue (`tokenmint_redis_commands_total`); nil counts nothing.
    private let commands: Counter?
    private let queue = DispatchQueue(label: "tokenmint.redis.hiredis")
    /// True from the moment a call is handed to the queue until the queue has finished it.
    private let busy = Atomic<Bool>(false)

    // Confined to `queue`.
    private var transport: (any RedisTransport)?

    /// - Throws: ``SettingsError`` naming the `REDIS_TLS_*` variable whose file OpenSSL cannot use.
    public init(settings: RedisSettings, metrics: RedisMetrics? = nil) throws {
        self.settings = settings
        self.tls = try settings.tls.map(TLSContext.init(settings:))
        self.commands = metrics?.commands
    }

    /// A connection to one node of a topology (a sentinel, a primary, a cluster node), sharing the topology's TLS
    /// context rather than loading the files again.
    init(node settings: RedisSettings, tls: TLSContext?, commands: Counter?) {
        self.settings = settings
        self.tls = tls
        self.commands = commands
    }

    /// `host:port` of the server this connection talks to.
    public var node: RedisNodeAddress { settings.node }

    deinit {
        transport?.close()
    }

    public func send(_ arguments: [String]) async throws -> RedisReply {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            throw RedisError(.timeout, "the previous Redis call has not returned yet")
        }
        commands?.increment()
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
        let transport = try connected()
        do {
            return try transport.command(
                arguments.map { Array($0.utf8) },
                timeoutMilliseconds: settings.commandTimeoutMilliseconds
            )
        } catch {
            disconnect()
            throw error
        }
    }

    /// The open transport, or a new one: TCP (and the TLS handshake), `AUTH` and `SELECT`, all within the connect
    /// timeout.
    private func connected() throws -> any RedisTransport {
        if let transport { return transport }
        let deadline = ContinuousClock.now + .milliseconds(settings.connectTimeoutMilliseconds)
        let transport: any RedisTransport
        if let tls {
            transport = try TLSTransport(settings: settings, tls: tls, deadline: deadline)
        } else {
            transport = PlainTransport(context: try Hiredis.connect(settings))
        }
        self.transport = transport
        do {
            let left = max(1, Int((ContinuousClock.now.duration(to: deadline) / .milliseconds(1)).rounded(.up)))
            if let password = settings.password {
                var arguments: [[UInt8]] = [Array("AUTH".utf8)]
                if let user = settings.user { arguments.append(Array(user.utf8)) }
                arguments.append(password.bytes)
                if case .error(let message) = try transport.command(arguments, timeoutMilliseconds: left) {
                    throw RedisError(.authentication, "AUTH refused by \(settings.address): \(message)")
                }
            }
            if settings.database != 0 {
                let select = [Array("SELECT".utf8), Array("\(settings.database)".utf8)]
                if case .error(let message) = try transport.command(select, timeoutMilliseconds: left) {
                    throw RedisError(.reply, "SELECT \(settings.database) refused: \(message)")
                }
            }
        } catch {
            disconnect()
            throw error
        }
        return transport
    }

    private func disconnect() {
        transport?.close()
        transport = nil
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
