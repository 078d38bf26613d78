/// A token Miro accepts for BoardsPicker: compact HS256 JWS with `iss` = client ID and an `exp`.
///
/// Carries its own times so the cache can decide whether it is still servable without parsing it again.
public struct MiroToken: Sendable, Equatable {
    /// The compact serialization handed to browsers.
    public let compact: String
    /// `iat`, Unix seconds.
    public let issuedAt: Int
    /// `exp`, Unix seconds.
    public let expiresAt: Int

    public init(compact: String, issuedAt: Int, expiresAt: Int) {
        self.compact = compact
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// Seconds of life left at `now` (may be negative).
    public func remaining(at now: Double) -> Double { Double(expiresAt) - now }

    /// A short, one-way name for logs: tokens never appear in logs whole.
    public var fingerprint: String { Fingerprint.of(compact.utf8) }
}
