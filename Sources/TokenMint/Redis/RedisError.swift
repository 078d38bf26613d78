/// Why Redis could not be used for a refresh. Every one of these sends the replica into degraded mode.
///
/// - Important: ``description`` never contains a password or a token.
public struct RedisError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        let name: String

        /// Could not open a connection (refused, unreachable, name not resolved in time).
        public static let connect = Kind(name: "connect")
        /// A connect or command deadline passed.
        public static let timeout = Kind(name: "timeout")
        /// The connection broke mid-command.
        public static let io = Kind(name: "io")
        /// `AUTH` failed, or the server wants a password we do not have.
        public static let authentication = Kind(name: "authentication")
        /// The server answered with an error, or with a reply of an unexpected shape.
        public static let reply = Kind(name: "reply")
        /// The TLS handshake or a TLS record failed: a certificate that does not verify, a wrong name, a server
        /// that does not speak TLS, a client certificate refused. Never retried in plaintext.
        public static let tls = Kind(name: "tls")
        /// The lock stayed taken through every round and no token appeared.
        public static let lockContention = Kind(name: "lock contention")

        public var description: String { name }
    }

    public let kind: Kind
    public let detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "redis \(kind): \(detail)" }
}
