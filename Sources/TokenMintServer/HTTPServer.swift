import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SwiftNIO front as a `Service`: binds, serves until graceful shutdown, then drains.
///
/// - Important: On graceful shutdown (SIGTERM) `/readyz` turns 503 first, then the listening socket closes and
///   `ServerQuiescingHelper` asks every connection to quiesce (``ConnectionGuard`` answers the request in progress with
///   `Connection: close`, then closes). Draining is bounded by
///   ``drainTimeout``: a client that never finishes its request cannot hold the process.
public final class HTTPServer: Service, Sendable {
    public static let drainTimeout: TimeAmount = .seconds(10)
    /// A connection that completes no request head for this long is closed: an idle keep-alive connection, or one
    /// trickling a head in byte by byte. Longer than the usual load balancer idle timeout (60 s), so the balancer,
    /// not tokenmint, closes idle keep-alive connections and never races a request.
    public static let idleTimeout: TimeAmount = .seconds(75)
    /// 16 KiB of request headers, beyond which the answer is 431.
    static let maximumHeaderBytes = 16 * 1024
    /// Header fields per request, beyond which the answer is 431. NIO counts only names and values against the
    /// byte limit, so the field count needs a bound of its own (every empty `A:` line costs memory once parsed);
    /// browsers and proxies send a few dozen.
    static let maximumHeaderFields = 128

    /// A connection's pipeline: NIO's request decoder (llhttp) with the header limits, then one
    /// ``ConnectionGuard``, which writes answers as bytes. No response encoder and no pipelining handler: the guard
    /// keeps answers in order and drains itself.
    static func addConnectionHandlers(
        to pipeline: ChannelPipeline.SynchronousOperations,
        shared: LoopShared,
        idleTimeout: TimeAmount
    ) throws {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = maximumHeaderBytes
        limits.maxHeaderFieldSize = maximumHeaderBytes
        limits.maxHeaderFieldCount = maximumHeaderFields
        try pipeline.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits))
        )
        try pipeline.addHandler(ConnectionGuard(shared: shared, idleTimeout: idleTimeout))
    }

    private let host: String
    private let port: Int
    private let group: any EventLoopGroup
    private let environment: HandlerEnvironment
    private let shared: LoopSharedSet
    private let idleTimeout: TimeAmount
    private let drainState = Mutex(DrainState.notListening)

    /// Where draining stands. The quiescing helper is made by ``start()`` and released by the drain, while the loops
    /// still run: releasing it fails a promise on one of them, which a loop already shut down refuses with an error
    /// line.
    private enum DrainState {
        case notListening
        case listening(ServerQuiescingHelper, listener: any Channel)
        /// Completes when the first drain is done; a second ``drain()`` waits for it too. Final: ``start()`` refuses.
        case draining(EventLoopFuture<Void>)
    }
    /// The port, once ``start()`` has bound (or while it binds).
    private let binding = Mutex<EventLoopFuture<Int>?>(nil)

    init(host: String, port: Int, group: any EventLoopGroup, environment: HandlerEnvironment, idleTimeout: TimeAmount) {
        self.host = host
        self.port = port
        self.group = group
        self.environment = environment
        self.shared = LoopSharedSet(environment: environment)
        self.idleTimeout = idleTimeout
    }

    /// Binds the listening socket (once) and returns its port; `PORT=0` picks a free one. A call while another binds
    /// waits for that one; after a failed bind the next call tries again.
    /// A drained server does not listen again: a start after ``drain()`` throws ``Drained``.
    @discardableResult
    public func start() async throws -> Int {
        if drainState.withLock({ if case .draining = $0 { true } else { false } }) { throw Drained() }
        let (bound, promise) = binding.withLock { binding -> (EventLoopFuture<Int>, EventLoopPromise<Int>?) in
            if let binding { return (binding, nil) }
            let promise = group.next().makePromise(of: Int.self)
            binding = promise.futureResult
            return (promise.futureResult, promise)
        }
        if let promise {
            do {
                promise.succeed(try await bind())
            } catch {
                binding.withLock { $0 = nil }
                promise.fail(error)
            }
        }
        return try await bound.get()
    }

    private func bind() async throws -> Int {
        let shared = self.shared
        let idleTimeout = self.idleTimeout
        let quiesce = ServerQuiescingHelper(group: group)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            // A TCP-level option, set as one: `.socketOption(.tcp_nodelay)` would be SOL_SOCKET's option 1, SO_DEBUG,
            // which only root may set, and a refused option resets the connection. NIO sets this by default; kept
            // explicit because the response is one small write per request.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.addConnectionHandlers(
                        to: channel.pipeline.syncOperations,
                        shared: shared.shared(on: channel.eventLoop),
                        idleTimeout: idleTimeout
                    )
                }
            }
        let bound: any Channel
        do {
            bound = try await bootstrap.bind(host: host, port: port).get()
        } catch let error as IOError {
            let portProblem = error.errnoCode == EADDRINUSE || error.errnoCode == EACCES
            throw ListenError(
                variable: portProblem ? "PORT" : "HOST",
                description: "cannot listen on \(host):\(port): \(String(cString: strerror(error.errnoCode)))"
            )
        } catch {
            throw ListenError(variable: "HOST", description: "cannot listen on \(host):\(port): \(error)")
        }
        // A drain that began while this bound found nothing to close: the socket must not outlive it.
        let drained = drainState.withLock { state -> Bool in
            if case .draining = state { return true }
            state = .listening(quiesce, listener: bound)
            return false
        }
        if drained {
            try? await bound.close()
            throw Drained()
        }
        environment.logger.info(
            "listening",
            metadata: ["address": "\(bound.localAddress.map { "\($0)" } ?? "?")"]
        )
        return bound.localAddress?.port ?? port
    }

    public func run() async throws {
        try await start()
        // Returns when graceful shutdown begins; throws if the task is cancelled outright.
        try? await gracefulShutdown()
        await drain()
    }

    /// Stops accepting and waits, bounded, for in-flight requests to finish.
    public func drain() async {
        environment.readiness.startDraining()
        environment.logger.info("draining: readiness is now 503, finishing in-flight requests")
        // A bind in flight first finishes, so it cannot open the socket after this drain looked.
        if let bind = binding.withLock({ $0 }) { _ = try? await bind.get() }
        let finished = group.next().makePromise(of: Void.self)
        typealias Listening = (quiesce: ServerQuiescingHelper, listener: any Channel)
        let (listening, earlier) = drainState.withLock { state -> (Listening?, EventLoopFuture<Void>?) in
            switch state {
            case .notListening:
                state = .draining(finished.futureResult)
                return (nil, nil)
            case .listening(let quiesce, let listener):
                state = .draining(finished.futureResult)
                return ((quiesce, listener), nil)
            case .draining(let future):
                return (nil, future)
            }
        }
        guard let (quiesce, listener) = listening else {
            finished.succeed()
            if let earlier { try? await earlier.get() } else { environment.logger.info("drained: not listening") }
            return
        }
        defer { finished.succeed() }
        let done = group.next().makePromise(of: Void.self)
        quiesce.initiateShutdown(promise: done)
        let timeout = group.next().scheduleTask(in: Self.drainTimeout) {
            done.fail(DrainTimeout())
        }
        do {
            try await done.futureResult.get()
            timeout.cancel()
            environment.logger.info("drained")
        } catch {
            environment.logger.warning("drain timed out; closing remaining connections")
            try? await listener.close()
        }
    }

    struct DrainTimeout: Error {}

    /// ``start()`` after ``drain()``: a drained server stays closed (make a new one to listen again).
    public struct Drained: Error, CustomStringConvertible {
        public var description: String { "the server has drained and does not listen again" }
    }

    /// The listening socket could not be opened (port taken, address not local): says which and why.
    public struct ListenError: Error, CustomStringConvertible {
        /// The setting to fix: `PORT` when the port is taken or privileged, `HOST` when the address is not this
        /// machine's or does not resolve.
        public let variable: String
        public let description: String
    }
}
