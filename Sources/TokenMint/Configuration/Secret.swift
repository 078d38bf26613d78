import Crypto

/// Bytes of a secret (signing key, caller secret, Redis password).
///
/// Its `description` is redacted so that string interpolation into a log line or an error can never leak it.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }

    public var count: Int { bytes.count }
    public var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }

    public var description: String { "<secret, \(bytes.count) bytes>" }
    public var debugDescription: String { description }

    /// A short, stable, one-way name for the secret (first 8 hex digits of its SHA-256), safe to log and to put in
    /// a Redis key: a rotated secret gets a new fingerprint, so a token signed with the old one is never found.
    public var fingerprint: String { Fingerprint.of(bytes) }
}
