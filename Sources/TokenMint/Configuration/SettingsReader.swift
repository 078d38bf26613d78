import Configuration

/// Reads raw strings through the typed `ConfigReader` and turns them into checked values with errors that name the
/// variable the operator set.
///
/// Values are read as strings and parsed here, rather than with the reader's `int(forKey:)`, because a malformed
/// number must stop startup with our message instead of silently falling back to a default.
struct SettingsReader {
    let reader: ConfigReader

    /// The environment variable a key is read from: `token.ttl.seconds` is `TOKEN_TTL_SECONDS`.
    static func variable(_ key: String) -> String {
        key.split(separator: ".").joined(separator: "_").uppercased()
    }

    /// A non-empty, trimmed value; an empty variable counts as unset.
    func string(_ key: String) -> String? {
        guard let raw = reader.string(forKey: ConfigKey(key)) else { return nil }
        let trimmed = raw.trimmingWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    func secret(_ key: String) -> Secret? {
        guard let raw = reader.string(forKey: ConfigKey(key), isSecret: true) else { return nil }
        let trimmed = raw.trimmingWhitespace()
        return trimmed.isEmpty ? nil : Secret(trimmed)
    }

    func wholeNumber(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let raw = string(key) else { return defaultValue }
        guard raw.allSatisfy(\.isASCIIDigit), raw.count <= 9, let value = Int(raw) else {
            throw SettingsError(Self.variable(key), "must be a whole number")
        }
        guard range.contains(value) else {
            throw SettingsError(Self.variable(key), "must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func flag(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let raw = string(key) else { return defaultValue }
        switch raw.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw SettingsError(Self.variable(key), "must be true or false")
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
