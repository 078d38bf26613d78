import NIOCore
import NIOHTTP1
import TokenMint

/// The socket's side of a connection, one per connection on its event loop, behind NIO's request decoder: it
/// turns decoded requests into ``EndpointRequest`` values for ``TokenEndpoint`` and writes its answers as bytes.
///
/// What it enforces:
/// - **Idle timeout**: a connection that completes no request head for `idleTimeout` is closed. Bytes alone do
///   not count: a head trickled in a byte at a time (slowloris) must not hold the connection forever. One timer
///   per connection, re-armed for the remaining time when it fires early: no timer work per request.
/// - **Unread answers**: a client that pipelines requests and never reads the answers would have them queue here
///   without bound. Once the socket's send buffer and NIO's write buffer above it are full, the next request head
///   closes the connection instead; a client that reads never gets here.
/// - **Limits**: header bytes and fields are the decoder's (`headerOverflow` is 431, any other parser error 400,
///   both closing); a body over ``TokenEndpoint/maximumBodyBytes`` is 413 and closes; CONNECT is refused and
///   closes, so nothing pipelined behind it waits for a tunnel.
/// - **Order**: answers leave in the order requests arrived. Requests are answered as they complete, except while
///   a public-key verification is out: then later request parts and parser errors are queued, reading stops, and
///   the queue is replayed once that answer is written.
/// - **Draining**: on `ChannelShouldQuiesceEvent` (SIGTERM) an idle connection closes once the answers already
///   handed to NIO are written; a busy one gets `Connection: close` on the answer to the request in progress and
///   closes after it.
///
/// Answers are collected in one buffer per read batch and flushed once, in `channelReadComplete`. The endpoint and
/// that buffer are the event loop's (``LoopShared``), not the connection's.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case receiving(Receiving)
        /// Waiting for a public-key verification to finish.
        case verifying
        /// The connection is closing: ignore whatever else arrives.
        case closing
    }

    /// A request whose head has arrived, and how many body bytes so far.
    private struct Receiving {
        var request: EndpointRequest
        var bodyBytes = 0
    }

    /// What arrived while a verification was out.
    private enum Queued {
        case part(HTTPServerRequestPart)
        case error(HTTPParserError)
    }

    private let shared: LoopShared
    private var endpoint: TokenEndpoint { shared.endpoint }
    private var state = State.idle
    private var queue = CircularBuffer<Queued>(initialCapacity: 4)
    private var requestIDs = RequestIDGenerator()
    /// Answers written since the last flush, in a buffer from ``LoopShared``, which gets it back after a flush that
    /// leaves the connection open.
    private var output: ByteBuffer?
    /// A `read` asked for while a verification was out.
    private var readPending = false
    private var quiescing = false
    /// The channel's writability, as `channelWritabilityChanged` reports it: read on every request head, where
    /// asking the channel goes through its existential and an atomic.
    private var isWritable = true
    private let idleTimeout: TimeAmount
    /// When the connection last completed a request head (or opened).
    private var lastRequest = NIODeadline.uptimeNanoseconds(0)
    private var idleCheck: Scheduled<Void>?

    init(shared: LoopShared, idleTimeout: TimeAmount) {
        self.shared = shared
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        isWritable = context.channel.isWritable
        lastRequest = context.eventLoop.now
        scheduleIdleCheck(context: context, at: lastRequest + idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        state = .closing
        queue.removeAll()
        context.fireChannelInactive()
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            let due = lastRequest + idleTimeout
            if due <= context.eventLoop.now {
                idleCheck = nil
                context.close(promise: nil)
            } else {
                scheduleIdleCheck(context: context, at: due)
            }
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .verifying = state {
            queue.append(.part(part))
            return
        }
        handle(part, context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOutput(context: context)
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        isWritable = context.channel.isWritable
        context.fireChannelWritabilityChanged()
    }

    /// A broken connection (reset, unexpected I/O error) is closed: there is nobody left to answer.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        switch state {
        case .verifying:
            queue.append(.error(parserError))
        case .closing:
            context.close(promise: nil)
        case .idle, .receiving:
            send(endpoint.malformed(parserError, requestID: requestIDs.next()), context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        quiescing = true
        switch state {
        case .idle:
            state = .closing
            closeAfterOutput(context: context)
        case .receiving, .verifying:
            // The answer to the request in progress says `Connection: close`; later requests are dropped.
            queue.removeAll()
        case .closing:
            break
        }
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            guard case .idle = state else { return }
            guard isWritable else {
                state = .closing
                context.close(promise: nil)
                return
            }
            let now = context.eventLoop.now
            lastRequest = now
            var request = EndpointRequest(head: head, startNanoseconds: now.uptimeNanoseconds) {
                requestIDs.next()
            }
            if head.method == .CONNECT {
                // An answer to CONNECT would open a tunnel: refuse it and close, so no later request on this
                // connection waits behind an answer that never ends.
                request.keepAlive = false
                respond(to: request, context: context)
                return
            }
            if let length = request.contentLength, length > TokenEndpoint.maximumBodyBytes {
                send(endpoint.bodyTooLarge(request), context: context)
                return
            }
            state = .receiving(Receiving(request: request))
        case .body(let buffer):
            guard case .receiving(var receiving) = state else { return }
            receiving.bodyBytes += buffer.readableBytes
            if receiving.bodyBytes > TokenEndpoint.maximumBodyBytes {
                send(endpoint.bodyTooLarge(receiving.request), context: context)
                return
            }
            state = .receiving(receiving)
        case .end:
            guard case .receiving(let receiving) = state else { return }
            state = .idle
            respond(to: receiving.request, context: context)
        }
    }

    private func respond(to request: EndpointRequest, context: ChannelHandlerContext) {
        switch endpoint.respond(to: request) {
        case .response(let response):
            send(response, context: context)
        case .verifying(let verification):
            state = .verifying
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: Result<CallerIdentity, CallerRejection>.self)
            promise.completeWithTask { await verification.run() }
            promise.futureResult.whenSuccess { result in
                let (handler, context) = bound.value
                handler.verified(verification, result: result, context: context)
            }
        }
    }

    private func verified(
        _ verification: TokenEndpoint.Verification,
        result: Result<CallerIdentity, CallerRejection>,
        context: ChannelHandlerContext
    ) {
        let response = endpoint.finish(verification, result: result)
        guard case .verifying = state else { return }
        state = .idle
        send(response, context: context)
        // Replay until the queue is empty or another verification (or the connection's end) stops it.
        while isReplaying, let next = queue.popFirst() {
            switch next {
            case .part(let part): handle(part, context: context)
            case .error(let error): errorCaught(context: context, error: error)
            }
        }
        flushOutput(context: context)
        if readPending, isReplaying {
            readPending = false
            context.read()
        }
    }

    /// Whether queued parts may be handled now: not while a verification is out or the connection is closing.
    private var isReplaying: Bool {
        switch state {
        case .idle, .receiving: true
        case .verifying, .closing: false
        }
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        if case .verifying = state {
            readPending = true
        } else {
            context.read()
        }
    }

    /// Adds `response` to the batch; one that closes the connection is flushed at once, and the connection closed
    /// once it is written.
    private func send(_ response: EndpointResponse, context: ChannelHandlerContext) {
        var response = response
        if quiescing { response.closesConnection = true }
        var batch = output.take() ?? shared.takeOutput(minimumCapacity: response.byteCountEstimate)
        response.write(into: &batch)
        output = batch
        if response.closesConnection {
            state = .closing
            queue.removeAll()
            closeAfterOutput(context: context)
        }
    }

    private func flushOutput(context: ChannelHandlerContext) {
        guard let batch = output.take() else { return }
        context.writeAndFlush(wrapOutboundOut(batch), promise: nil)
        shared.returnOutput(batch)
    }

    /// Closes once every answer handed to NIO is written: closing at once would fail the writes a slow reader has
    /// not taken yet. With no new answer, an empty write stands in: NIO completes writes in order.
    private func closeAfterOutput(context: ChannelHandlerContext) {
        let batch = output.take() ?? ByteBuffer()
        context.writeAndFlush(wrapOutboundOut(batch)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
