/// Fetches one document (a JWKS, an OIDC discovery document) from the identity provider.
///
/// The domain owns this protocol and knows nothing of HTTP or NIO; the server's implementation uses
/// AsyncHTTPClient on an event loop group of its own, never on the loops that serve requests.
///
/// - Important: An implementation bounds every fetch: a connect timeout, a total timeout, and at most
///   ``maximumBodyBytes`` of body. It refuses anything but a 200, and never follows a redirect: the URL the
///   operator configured is the one trusted.
public protocol CallerKeyFetcher: Sendable {
    /// The body of a 200 answer from `url`.
    ///
    /// - Throws: a ``CallerKeyFetchError`` (or the client's own error) for anything else.
    func fetch(_ url: String) async throws -> [UInt8]
}

extension CallerKeyFetcher {
    /// Real JWKS documents are a few KiB; a provider's document larger than this is refused as garbage.
    public static var maximumBodyBytes: Int { 256 * 1024 }
}

/// Why a fetch produced no usable document. ``description`` names what went wrong, never a key or a token.
public struct CallerKeyFetchError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
