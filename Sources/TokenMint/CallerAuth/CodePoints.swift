/// Exact string comparison for the claims and header members that identify parties and keys.
///
/// - Important: RFC 7519 §7.3 compares `iss`, `aud`, `sub` and `kid` code point by code point, with no Unicode
///   normalization. Swift's `String ==` (and hashing, so `Dictionary` lookups too) treats canonically equivalent
///   strings as equal: `café` with U+00E9 equals `cafe` + U+0301. An issuer or audience that another party spells
///   differently is a different party, so these members are compared here, by their UTF-8 bytes.
enum CodePoints {
    static func equal(_ value: String?, _ required: String) -> Bool {
        guard let value else { return false }
        return value.utf8.elementsEqual(required.utf8)
    }

    /// Whether `values` holds `required`, compared by code points.
    static func contains(_ values: [String]?, _ required: String) -> Bool {
        (values ?? []).contains { equal($0, required) }
    }
}
