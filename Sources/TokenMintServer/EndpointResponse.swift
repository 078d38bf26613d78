import NIOCore
import NIOHTTP1

/// One answer, as ``TokenEndpoint`` made it and as it goes on the wire: HTTP/1.1 bytes, written straight to the
/// channel with no `HTTPResponseEncoder` or `HTTPHeaders` in between.
///
/// Everything but the request's ID and the connection's fate is in ``head``, which a cache can share between
/// requests (``PreparedTokenAnswer`` builds the token's once per token generation and origin).
///
/// - Important: Every answer carries `Cache-Control: no-store` and `X-Request-Id`; ``head`` is built only by
///   ``ResponseHead/make(version:status:contentType:contentLength:headers:)``, which writes the first, and
///   ``write(into:)`` writes the second.
struct EndpointResponse {
    let status: HTTPResponseStatus
    /// The status line and every header field before `X-Request-Id`, each ending in CRLF.
    let head: ByteBuffer
    /// The content; nil for a `204`, which has neither content nor `Content-Length`.
    let body: ByteBuffer?
    let requestID: RequestID
    let version: HTTPVersion
    /// The connection closes after this answer (`Connection: close` is sent).
    var closesConnection: Bool
    /// A `HEAD` request: `Content-Length` as for `GET`, no content.
    var omitsBody = false

    /// The bytes on the wire.
    func write(into buffer: inout ByteBuffer) {
        buffer.writeImmutableBuffer(head)
        buffer.writeStaticString("X-Request-Id: ")
        requestID.write(into: &buffer)
        if closesConnection {
            buffer.writeStaticString("\r\nConnection: close\r\n\r\n")
        } else if version.major == 1 && version.minor == 0 {
            buffer.writeStaticString("\r\nConnection: keep-alive\r\n\r\n")
        } else {
            buffer.writeStaticString("\r\n\r\n")
        }
        if let body, !omitsBody { buffer.writeImmutableBuffer(body) }
    }

    /// An upper bound of ``write(into:)``'s byte count, to size one buffer for it.
    var byteCountEstimate: Int { head.readableBytes + (body?.readableBytes ?? 0) + 200 }
}

/// Serializes a status line and header fields.
enum ResponseHead {
    /// `HTTP/x.y code reason`, `Content-Type` (when given), `Content-Length` (when given), `Cache-Control:
    /// no-store`, then `headers` in order.
    static func make(
        version: HTTPVersion,
        status: HTTPResponseStatus,
        contentType: String?,
        contentLength: Int?,
        headers: [(String, String)]
    ) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        buffer.writeString("HTTP/\(version.major).\(version.minor) \(status.code) \(status.reasonPhrase)\r\n")
        if let contentType { field("Content-Type", contentType, into: &buffer) }
        if let contentLength { field("Content-Length", String(contentLength), into: &buffer) }
        buffer.writeStaticString("Cache-Control: no-store\r\n")
        for (name, value) in headers { field(name, value, into: &buffer) }
        return buffer
    }

    private static func field(_ name: String, _ value: String, into buffer: inout ByteBuffer) {
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }
}
