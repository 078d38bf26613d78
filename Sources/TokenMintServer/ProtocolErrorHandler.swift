import NIOCore
import NIOHTTP1

/// Answers malformed HTTP with an RFC 9457 problem instead of NIO's stock bare 400, then closes.
///
/// Sits where NIO's `HTTPServerProtocolErrorHandler` would: after the pipelining handler, so the answer is ordered
/// after any response still in flight. Oversized headers (the decoder's `headerOverflow`, limited to 16 KiB) are
/// 431; anything else the parser refuses is 400.
final class ProtocolErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var hasUnterminatedResponse = false
    private let respond: @Sendable (Problem) -> (HTTPResponseHead, ByteBuffer)

    /// - Parameter respond: builds the problem's head and body the way every other response is built.
    init(respond: @escaping @Sendable (Problem) -> (HTTPResponseHead, ByteBuffer)) {
        self.respond = respond
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if !hasUnterminatedResponse {
            let problem: Problem = parserError == .headerOverflow ? .headersTooLarge : .malformed
            let (head, body) = respond(problem)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head): if head.status.code >= 200 { hasUnterminatedResponse = true }
        case .body: break
        case .end: hasUnterminatedResponse = false
        }
        context.write(data, promise: promise)
    }
}
