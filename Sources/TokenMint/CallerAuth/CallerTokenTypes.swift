/// The allow-list of the header's `typ` (`CALLER_JWT_TYPES`): an access token (`at+jwt`, RFC 9068) and an id token
/// (`JWT`) from the same provider verify with the same keys, and `typ` is what tells them apart.
///
/// Compared case-insensitively, as media types are (RFC 7515 §4.1.9), and with the `application/` prefix that
/// RFC 7515 lets a producer omit taken off both sides, so `at+jwt` and `application/at+jwt` are the same type.
/// - Important: When the list is set, a token without a `typ` is refused: an attacker chooses which tokens to
///   present, and a missing `typ` says nothing about what the token is for.
public struct CallerTokenTypes: Sendable, Equatable {
    /// The allowed types, normalized.
    let allowed: Set<String>

    /// - Returns: nil when `list` names no type; the caller treats that as unset.
    public init?(list: String) {
        let names = list.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !names.isEmpty else { return nil }
        allowed = Set(names.map(Self.normalized))
    }

    /// Whether every entry of `list` is a plausible media type: visible ASCII, no spaces or quotes.
    static func isWellFormed(_ list: String) -> Bool {
        list.split(separator: ",").allSatisfy { entry in
            let name = entry.trimmingWhitespace()
            return name.isEmpty
                || name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "," }
        }
    }

    func allows(_ typ: String?) -> Bool {
        guard let typ else { return false }
        return allowed.contains(Self.normalized(typ))
    }

    /// ASCII lowercase (no locale, no Unicode case folding), without a leading `application/`.
    static func normalized(_ name: some StringProtocol) -> String {
        var lowered = ""
        lowered.unicodeScalars.append(
            contentsOf: name.unicodeScalars.map { scalar in
                scalar.value >= 0x41 && scalar.value <= 0x5A ? Unicode.Scalar(UInt8(scalar.value + 0x20)) : scalar
            }
        )
        let prefix = "application/"
        if lowered.utf8.starts(with: prefix.utf8) { lowered.removeFirst(prefix.count) }
        return lowered
    }
}
