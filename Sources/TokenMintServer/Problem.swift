import NIOHTTP1
import TokenMint

/// An RFC 9457 problem: every error tokenmint answers is one of these, as `application/problem+json`.
///
/// - Important: `detail` says what is wrong and never echoes a token or a secret.
struct Problem: Sendable {
    let status: HTTPResponseStatus
    let detail: String
    /// Headers the status calls for (`Allow`, `WWW-Authenticate`, `Retry-After`).
    var extraHeaders: [(String, String)] = []
    /// Malformed HTTP cannot be answered and then read past: the connection closes after the answer.
    var closesConnection = false

    /// The body, encoded with the few escapes JSON strings need.
    var body: String {
        #"{"type":"about:blank","title":"# + JSONString.quoted(status.reasonPhrase) + #","status":\#(status.code)"#
            + #","detail":"# + JSONString.quoted(detail) + "}"
    }

    static func unauthorized(_ detail: String) -> Problem {
        Problem(
            status: .unauthorized,
            detail: detail,
            extraHeaders: [
                (
                    "WWW-Authenticate",
                    #"Bearer realm="tokenmint", error="invalid_token", error_description=""#
                        + detail.replacingQuotes() + "\""
                )
            ]
        )
    }

    static let notFound = Problem(status: .notFound, detail: "no such route; the token is at POST /v1/token")
    static let tokenMethod = Problem(
        status: .methodNotAllowed,
        detail: "use POST for /v1/token",
        extraHeaders: [("Allow", "POST, OPTIONS")]
    )
    static let readMethod = Problem(
        status: .methodNotAllowed,
        detail: "use GET for this route",
        extraHeaders: [("Allow", "GET, HEAD")]
    )
    static let bodyTooLarge = Problem(
        status: .payloadTooLarge,
        detail: "request body over 1 KiB; the token request needs no body",
        closesConnection: true
    )
    static let headersTooLarge = Problem(
        status: HTTPResponseStatus(statusCode: 431, reasonPhrase: "Request Header Fields Too Large"),
        detail: "request headers over 16 KiB",
        closesConnection: true
    )
    static let malformed = Problem(
        status: .badRequest,
        detail: "malformed HTTP request",
        closesConnection: true
    )
    static let noToken = Problem(
        status: .serviceUnavailable,
        detail: "no Miro token with enough remaining life is available yet; retry shortly",
        extraHeaders: [("Retry-After", "1")]
    )
    static let callerKeysUnavailable = Problem(
        status: .serviceUnavailable,
        detail: "the identity provider's keys are not loaded yet; retry shortly",
        extraHeaders: [("Retry-After", "2")]
    )
}

extension String {
    /// For quoted-string header parameters: our details never contain quotes, but make sure.
    fileprivate func replacingQuotes() -> String {
        String(unicodeScalars.map { $0 == "\"" || $0 == "\\" ? "'" : Character($0) })
    }
}
