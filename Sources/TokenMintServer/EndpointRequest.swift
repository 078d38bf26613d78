import NIOCore
import NIOHTTP1

/// What ``TokenEndpoint`` needs of one request: the request line and the few headers any route reads, taken from
/// the decoded head in one pass.
struct EndpointRequest {
    var method: HTTPMethod
    var route: Route
    var version: HTTPVersion = .http1_1
    var keepAlive = true
    var authorization: String?
    var accept: String?
    var origin: String?
    /// `Content-Length` as sent; nil when absent or not a number.
    var contentLength: Int?
    var requestID: RequestID
    /// Monotonic time the head was complete, for the duration metric.
    var startNanoseconds: UInt64 = 0

    init(
        method: HTTPMethod,
        route: Route,
        requestID: RequestID,
        authorization: String? = nil,
        accept: String? = nil,
        origin: String? = nil
    ) {
        self.method = method
        self.route = route
        self.requestID = requestID
        self.authorization = authorization
        self.accept = accept
        self.origin = origin
    }

    /// Reads `head`: each header as `HTTPHeaders.first(name:)` would find it (the first field of that name,
    /// case-insensitively), keep-alive as `HTTPRequestHead.isKeepAlive` decides it.
    ///
    /// - Parameter makeID: the ID to use when the caller sent no sane `X-Request-Id`.
    init(head: HTTPRequestHead, startNanoseconds: UInt64, makeID: () -> RequestID) {
        var authorization: String?
        var accept: String?
        var origin: String?
        var requestID: String?
        var contentLength: String?
        var hasConnection = false
        for (name, value) in head.headers {
            switch name.utf8.count {
            case 6:
                if origin == nil, name.isASCIICaseInsensitive("origin") {
                    origin = value
                } else if accept == nil, name.isASCIICaseInsensitive("accept") {
                    accept = value
                }
            case 10:
                if name.isASCIICaseInsensitive("connection") { hasConnection = true }
            case 12:
                if requestID == nil, name.isASCIICaseInsensitive("x-request-id") { requestID = value }
            case 13:
                if authorization == nil, name.isASCIICaseInsensitive("authorization") { authorization = value }
            case 14:
                if contentLength == nil, name.isASCIICaseInsensitive("content-length") { contentLength = value }
            default:
                break
            }
        }
        let id: RequestID
        if let requestID, RequestID.isSane(requestID) {
            id = .supplied(requestID)
        } else {
            id = makeID()
        }
        self.init(
            method: head.method,
            route: Route(uri: head.uri),
            requestID: id,
            authorization: authorization,
            accept: accept,
            origin: origin
        )
        version = head.version
        // Without a Connection header, keep-alive is the version's default; with one, NIO's own reading.
        keepAlive = hasConnection ? head.isKeepAlive : (head.version.major == 1 && head.version.minor >= 1)
        self.contentLength = contentLength.flatMap { Int($0) }
        self.startNanoseconds = startNanoseconds
    }
}

extension String {
    /// Equal to `lowercase` (which must be lowercase ASCII) ignoring ASCII case, as HTTP field names compare.
    fileprivate func isASCIICaseInsensitive(_ lowercase: StaticString) -> Bool {
        let mine = utf8
        guard mine.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { other in
            var index = 0
            for byte in mine {
                let folded = (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) ? byte | 0x20 : byte
                guard folded == other[index] else { return false }
                index += 1
            }
            return true
        }
    }
}
