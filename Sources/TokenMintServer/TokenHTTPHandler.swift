import CoreMetrics
import Logging
import Prometheus
import NIOCore
import NIOHTTP1
import TokenMint

/// The hot path: one instance per connection, on its event loop. Answers every route from memory.
///
/// Requests arrive one at a time even when the client pipelines them: NIO's `HTTPServerPipelineHandler` in front
/// holds the next request until this one's `.end` is written, which is what makes the asynchronous public-key path
/// safe.
///
/// It also closes idle connections and answers malformed HTTP itself, rather than through NIO's
/// `IdleStateHandler` and a separate error handler: each handler in the pipeline is a hop for every read, write
/// and flush of every request, and this pipeline's per-request cost is mostly such hops.
final class TokenHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The token request carries no body; a little is tolerated (some clients send `{}`), more is refused.
    static let maximumBodyBytes = 1024

    private enum State {
        case idle
        case receiving(Request)
        /// The request was answered early (413) and the connection is closing: ignore the rest.
        case discarding
        /// Waiting for a public-key verification to finish.
        case verifying
    }

    private struct Request {
        let head: HTTPRequestHead
        let route: Route
        var envelope: ResponseEnvelope
        let startNanoseconds: UInt64
        var bodyBytes = 0
    }

    private let environment: HandlerEnvironment
    private var state = State.idle
    private var requestIDs = RequestIDGenerator()
    /// The raw-JWT body and fingerprint of the last token served on this connection, rebuilt when the token changes.
    private var tokenResponse: (generation: UInt64, body: ByteBuffer, fingerprint: String)?
    /// A connection that completes no request head for this long is closed.
    private let idleTimeout: TimeAmount
    /// When the connection last completed a request head (or opened). Bytes alone do not count: a head trickled in
    /// a byte at a time (slowloris) must not hold the connection, and the memory of its half-parsed head, forever.
    private var lastRequest = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?

    init(environment: HandlerEnvironment, idleTimeout: TimeAmount) {
        self.environment = environment
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        lastRequest = .now()
        scheduleIdleCheck(context: context, at: lastRequest + idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    /// One timer per connection, re-armed for the remaining time when it fires early: no timer work per request.
    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            let due = lastRequest + idleTimeout
            if due <= .now() {
                idleCheck = nil
                context.close(promise: nil)
            } else {
                scheduleIdleCheck(context: context, at: due)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard !isDiscarding else { return }
            // A client that pipelines requests and never reads the answers would have them queue here without
            // bound. Once the socket's send buffer and NIO's write buffer (64 KiB above it) are full, the next
            // request closes the connection instead of adding to the queue; a client that reads never gets here.
            guard context.channel.isWritable else {
                state = .discarding
                context.close(promise: nil)
                return
            }
            lastRequest = .now()
            var request = makeRequest(head)
            if head.method == .CONNECT {
                // NIO frames an answer to CONNECT as the start of a tunnel (no length): refuse it and close, so no
                // later request on this connection waits behind an answer that never ends.
                state = .discarding
                request.envelope.keepAlive = false
                route(context: context, request: request)
                return
            }
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > Self.maximumBodyBytes
            {
                state = .discarding
                respond(context: context, request: request, problem: .bodyTooLarge)
                return
            }
            state = .receiving(request)
        case .body(let buffer):
            guard case .receiving(var request) = state else { return }
            request.bodyBytes += buffer.readableBytes
            if request.bodyBytes > Self.maximumBodyBytes {
                state = .discarding
                respond(context: context, request: request, problem: .bodyTooLarge)
                return
            }
            state = .receiving(request)
        case .end:
            guard case .receiving(let request) = state else { return }
            state = .idle
            route(context: context, request: request)
        }
    }

    /// Malformed HTTP gets an RFC 9457 problem instead of NIO's stock bare 400, then the connection closes:
    /// oversized headers (the decoder's `headerOverflow`, limited to 16 KiB) are 431, anything else the parser
    /// refuses is 400. The pipelining handler in front delivers a parser error only once any response in flight
    /// has ended, so the answer is never interleaved with another. A broken connection (reset, unexpected I/O
    /// error) is closed; there is nobody left to answer.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, !isDiscarding else {
            context.close(promise: nil)
            return
        }
        state = .discarding
        let envelope = ResponseEnvelope(requestID: requestIDs.next(), origin: nil, keepAlive: false)
        let (head, body) = envelope.problem(
            parserError == .headerOverflow ? .headersTooLarge : .malformed,
            cors: environment.cors,
            allocator: context.channel.allocator
        )
        environment.metrics.count(route: .other, status: head.status)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private var isDiscarding: Bool {
        if case .discarding = state { return true }
        return false
    }

    private func makeRequest(_ head: HTTPRequestHead) -> Request {
        let requestID = head.headers.first(name: "x-request-id").flatMap { RequestIDGenerator.isSane($0) ? $0 : nil }
        let envelope = ResponseEnvelope(
            requestID: requestID ?? requestIDs.next(),
            origin: head.headers.first(name: "origin"),
            keepAlive: head.isKeepAlive,
            version: head.version
        )
        return Request(
            head: head,
            route: Route(uri: head.uri),
            envelope: envelope,
            startNanoseconds: NIODeadline.now().uptimeNanoseconds
        )
    }

    // MARK: Routes

    private func route(context: ChannelHandlerContext, request: Request) {
        let method = request.head.method
        switch request.route {
        case .token:
            switch method {
            case .POST: token(context: context, request: request)
            case .OPTIONS: preflight(context: context, request: request)
            default: respond(context: context, request: request, problem: .tokenMethod)
            }
        case .healthz, .readyz, .metrics:
            guard method == .GET || method == .HEAD else {
                respond(context: context, request: request, problem: .readMethod)
                return
            }
            switch request.route {
            case .healthz:
                respond(context: context, request: request, status: .ok, type: "text/plain; charset=utf-8", "ok\n")
            case .readyz:
                readyz(context: context, request: request)
            default:
                var body = context.channel.allocator.buffer(capacity: 4096)
                body.writeBytes(environment.registry.emitToBuffer())
                respond(
                    context: context,
                    request: request,
                    status: .ok,
                    type: "text/plain; version=0.0.4; charset=utf-8",
                    body: body
                )
            }
        case .other:
            respond(context: context, request: request, problem: .notFound)
        }
    }

    private func token(context: ChannelHandlerContext, request: Request) {
        let now = environment.now()
        let authorization = request.head.headers.first(name: "authorization")
        let verifier = environment.verifiers.current
        switch verifier.verify(authorization: authorization, now: now) {
        case .accepted(let caller):
            serveToken(context: context, request: request, caller: caller)
        case .rejected(let rejection):
            reject(context: context, request: request, rejection)
        case .needsPublicKey(let pending):
            state = .verifying
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: Result<CallerIdentity, CallerRejection>.self)
            promise.completeWithTask { await verifier.verifyWithPublicKey(pending, now: now) }
            promise.futureResult.whenSuccess { result in
                let (handler, context) = bound.value
                handler.state = .idle
                switch result {
                case .success(let caller): handler.serveToken(context: context, request: request, caller: caller)
                case .failure(let rejection): handler.reject(context: context, request: request, rejection)
                }
            }
        }
    }

    private func reject(context: ChannelHandlerContext, request: Request, _ rejection: CallerRejection) {
        environment.metrics.recordRejection(rejection.kind)
        // Keys not fetched yet is our fault, not the caller's: 503 and retry, not 401 and sign in again.
        let problem: Problem =
            rejection.kind == .keysUnavailable ? .callerKeysUnavailable : .unauthorized(rejection.detail)
        respond(context: context, request: request, problem: problem)
    }

    private func serveToken(context: ChannelHandlerContext, request: Request, caller: CallerIdentity) {
        let now = environment.now()
        guard let snapshot = environment.cache.servable(at: now) else {
            respond(context: context, request: request, problem: .noToken)
            return
        }
        if tokenResponse?.generation != snapshot.generation {
            tokenResponse = (
                snapshot.generation, context.channel.allocator.buffer(string: snapshot.token.compact),
                snapshot.token.fingerprint
            )
        }
        let cached = tokenResponse!
        environment.metrics.served.increment()
        var audit: Logger.Metadata = [
            "request_id": .string(request.envelope.requestID),
            "sub": .string(caller.subject ?? "-"),
            "verifier": .string(caller.verifier),
            "token": .string(cached.fingerprint),
        ]
        if let team = caller.team { audit["team"] = .string(team) }
        environment.logger.info("token issued", metadata: audit)
        if TokenRepresentation(accept: request.head.headers.first(name: "accept")) == .json {
            let token = snapshot.token
            let body =
                #"{"token":"\#(token.compact)","expiresAt":"\#(RFC3339.string(token.expiresAt))","expiresIn":"#
                + "\(max(0, Int(token.remaining(at: now).rounded(.down))))}"
            respond(context: context, request: request, status: .ok, type: "application/json", body)
        } else {
            respond(context: context, request: request, status: .ok, type: "application/jwt", body: cached.body)
        }
    }

    private func preflight(context: ChannelHandlerContext, request: Request) {
        var head = request.envelope.head(
            status: .noContent,
            contentType: nil,
            contentLength: 0,
            cors: environment.cors,
            extra: [("Allow", "POST, OPTIONS")]
        )
        head.headers.remove(name: "Content-Length")
        environment.cors.preflightHeaders(origin: request.envelope.origin, into: &head.headers)
        write(context: context, request: request, head: head, body: nil)
    }

    private func readyz(context: ChannelHandlerContext, request: Request) {
        let redis = environment.redisState()
        if environment.readiness.isDraining {
            respond(
                context: context,
                request: request,
                status: .serviceUnavailable,
                type: "application/json",
                #"{"status":"draining","redis":"\#(redis)"}"#
            )
        } else if environment.callerKeysState() == .loading {
            respond(
                context: context,
                request: request,
                status: .serviceUnavailable,
                type: "application/json",
                #"{"status":"unready","reason":"caller keys not loaded yet","caller_keys":"loading","redis":"\#(redis)"}"#
            )
        } else if environment.cache.servable(at: environment.now()) == nil {
            respond(
                context: context,
                request: request,
                status: .serviceUnavailable,
                type: "application/json",
                #"{"status":"unready","token":"none","redis":"\#(redis)"}"#
            )
        } else {
            respond(
                context: context,
                request: request,
                status: .ok,
                type: "application/json",
                #"{"status":"ready","token":"servable","redis":"\#(redis)"}"#
            )
        }
    }

    // MARK: Writing

    private func respond(
        context: ChannelHandlerContext,
        request: Request,
        status: HTTPResponseStatus,
        type: String,
        _ text: String
    ) {
        respond(
            context: context,
            request: request,
            status: status,
            type: type,
            body: context.channel.allocator.buffer(string: text)
        )
    }

    private func respond(
        context: ChannelHandlerContext,
        request: Request,
        status: HTTPResponseStatus,
        type: String,
        body: ByteBuffer
    ) {
        let head = request.envelope.head(
            status: status,
            contentType: type,
            contentLength: body.readableBytes,
            cors: environment.cors
        )
        write(context: context, request: request, head: head, body: body)
    }

    private func respond(context: ChannelHandlerContext, request: Request, problem: Problem) {
        let (head, body) = request.envelope.problem(
            problem,
            cors: environment.cors,
            allocator: context.channel.allocator
        )
        write(context: context, request: request, head: head, body: body)
    }

    private func write(context: ChannelHandlerContext, request: Request, head: HTTPResponseHead, body: ByteBuffer?) {
        let keepAlive = head.headers.first(name: "connection")?.lowercased() != "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, request.head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
        let elapsed = NIODeadline.now().uptimeNanoseconds - request.startNanoseconds
        environment.metrics.record(route: request.route, status: head.status, nanoseconds: Int64(elapsed))
    }
}
