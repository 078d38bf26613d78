import NIOCore
import NIOHTTP1
import TokenMint

/// The `200` raw-JWT answer of one token generation, serialized once: status line, fixed header fields and body.
/// A request adds only its `X-Request-Id` (and, when the connection closes, `Connection: close`).
///
/// One head per kind of `Origin`: none, one not allowed (`Vary` only) and each allowed origin (its own
/// `Access-Control-Allow-Origin`), built when first asked for.
///
/// - Important: Valid for the generation it was built from only: ``TokenEndpoint`` rebuilds it when the cache's
///   generation changes, so an answer never pairs an old token with a new one's headers.
///
/// A class: the endpoint reads it on every token answer, and a reference costs one retain where a copy of the
/// value would retain each buffer. One event loop's (its ``TokenEndpoint`` keeps it): not `Sendable`.
final class PreparedTokenAnswer {
    let generation: UInt64
    let body: ByteBuffer
    let fingerprint: String
    private var withoutOrigin: ByteBuffer?
    private var otherOrigin: ByteBuffer?
    private var allowedOrigins: [String: ByteBuffer] = [:]

    init(snapshot: TokenCache.Snapshot) {
        generation = snapshot.generation
        body = ByteBuffer(string: snapshot.token.compact)
        fingerprint = snapshot.token.fingerprint
    }

    /// The head for an HTTP/1.1 answer to a request from `origin`.
    func head(origin: String?, cors: CORSPolicy) -> ByteBuffer {
        guard let origin else {
            if let withoutOrigin { return withoutOrigin }
            let head = make(origin: nil, cors: cors)
            withoutOrigin = head
            return head
        }
        if cors.isAllowed(origin) {
            if let head = allowedOrigins[origin] { return head }
            let head = make(origin: origin, cors: cors)
            allowedOrigins[origin] = head
            return head
        }
        if let otherOrigin { return otherOrigin }
        let head = make(origin: origin, cors: cors)
        otherOrigin = head
        return head
    }

    private func make(origin: String?, cors: CORSPolicy) -> ByteBuffer {
        ResponseHead.make(
            version: .http1_1,
            status: .ok,
            contentType: "application/jwt",
            contentLength: body.readableBytes,
            headers: cors.responseHeaders(origin: origin)
        )
    }
}
