import NIOCore
import NIOHTTP1

/// What every response carries, whatever its route: `Cache-Control: no-store`, `X-Request-Id`, CORS for an allowed
/// origin, and the connection's keep-alive decision.
struct ResponseEnvelope {
    var requestID: String
    var origin: String?
    var keepAlive: Bool
    var version: HTTPVersion = .http1_1

    func head(
        status: HTTPResponseStatus,
        contentType: String?,
        contentLength: Int,
        cors: CORSPolicy,
        extra: [(String, String)] = []
    ) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(10)
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        headers.add(name: "Content-Length", value: String(contentLength))
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "X-Request-Id", value: requestID)
        cors.responseHeaders(origin: origin, into: &headers)
        for (name, value) in extra { headers.add(name: name, value: value) }
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if version.major == 1 && version.minor == 0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        return HTTPResponseHead(version: version, status: status, headers: headers)
    }

    func problem(_ problem: Problem, cors: CORSPolicy, allocator: ByteBufferAllocator) -> (HTTPResponseHead, ByteBuffer)
    {
        let body = allocator.buffer(string: problem.body)
        var envelope = self
        if problem.closesConnection { envelope.keepAlive = false }
        let head = envelope.head(
            status: problem.status,
            contentType: "application/problem+json",
            contentLength: body.readableBytes,
            cors: cors,
            extra: problem.extraHeaders
        )
        return (head, body)
    }
}
