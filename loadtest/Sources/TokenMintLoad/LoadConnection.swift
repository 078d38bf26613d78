import NIOCore
import NIOHTTP1

/// One keep-alive connection of the driver and the request it has in flight. Lives on its worker's event loop;
/// when the socket breaks, the worker connects a new channel into the same `LoadConnection`. Unchecked `Sendable`
/// because NIO's callbacks are `@Sendable` closures, but they all run on that one loop.
final class LoadConnection: @unchecked Sendable {
    enum State {
        case connecting
        case ready
        case inFlight
        /// Answered with `Connection: close`; waiting for the socket to close.
        case closing
        case closed
    }

    let target: TargetURL
    let address: SocketAddress
    var state = State.closed
    var channel: (any Channel)?
    /// Consecutive failed connects, for the reconnect backoff.
    var connectFailures = 0

    // The request in flight.
    /// When it started counting: sent (closed loop) or due (open loop), in uptime nanoseconds.
    var startNanoseconds: UInt64 = 0
    var isBadCaller = false
    var status = 0
    var hasNoStore = false
    /// False when the answer said `Connection: close` (nginx does after `keepalive_requests`): reconnect, quietly.
    var keepAlive = true
    var body: ByteBuffer?

    init(target: TargetURL, address: SocketAddress) {
        self.target = target
        self.address = address
    }
}

/// Hands one connection's response parts to its worker. Tokens are a few hundred bytes, normally one body part.
final class LoadResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let connection: LoadConnection
    private let worker: LoopWorker

    init(connection: LoadConnection, worker: LoopWorker) {
        self.connection = connection
        self.worker = worker
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard connection.state == .inFlight else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            connection.status = Int(head.status.code)
            connection.keepAlive = head.isKeepAlive
            connection.hasNoStore = head.headers[canonicalForm: "cache-control"].contains {
                $0.utf8.count == 8 && $0.lowercased() == "no-store"
            }
        case .body(var part):
            // Only a good caller's token is read; error bodies are not checked.
            guard connection.status == 200, !connection.isBadCaller else { return }
            if connection.body == nil {
                connection.body = part
            } else {
                connection.body!.writeBuffer(&part)
            }
        case .end:
            worker.answered(connection)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        worker.closed(connection, channel: context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or a response the decoder refuses: the connection is done; channelInactive does the accounting.
        context.close(promise: nil)
    }
}
