import Foundation

/// What the harness reads off a JSON text that Foundation accepted, without ``JSONObjectReader``: the facts behind
/// the reader's deliberate refusals (``DeliberateRefusal``).
///
/// Foundation's dictionary has already merged duplicate names and dropped the order, so these facts come from the
/// bytes. Because Foundation accepted them, the text is well-formed JSON (up to the trailing commas Foundation
/// allows), and a small scanner that only tracks strings and brackets reads it correctly; each member name and value
/// is then decoded by Foundation on its own, never by the reader under test.
struct JSONTextFacts {
    /// Every top-level member in input order, duplicates included, with its value as Foundation decodes it alone
    /// (only for the members ``ClaimsOracle`` types and the shadowed ones; `nil` where Foundation refuses it alone).
    var members: [(name: [Unicode.Scalar], value: Any?)] = []
    /// The deepest nesting of objects and arrays; the top-level object counts as 1.
    var maxDepth = 0
    /// A `,` directly (up to whitespace) before a `}` or `]`.
    var hasTrailingComma = false
    /// U+FEFF as raw UTF-8 (EF BB BF) inside a string.
    var hasRawByteOrderMarkInString = false
    /// A value that a later member of the same name replaces, and that Foundation refuses on its own. Foundation
    /// checks the syntax of the whole text first but converts numbers only for the values it keeps, so a number out
    /// of range in a dropped duplicate (`{"x":1e400,"x":1}`) passes.
    var hasRefusedShadowedValue = false

    /// `nil` when the top level is not an object or a piece fails to decode alone, which the caller reports as a
    /// harness fault rather than reading a refusal into it.
    init?(utf8 bytes: [UInt8]) {
        scanBrackets(bytes)
        guard let members = Self.topLevelMembers(bytes) else { return nil }
        for (index, member) in members.enumerated() {
            let isShadowed = members[(index + 1)...].contains { $0.name == member.name }
            // Only the values of the typed members are ever looked at, and the shadowed ones checked: decoding the
            // others would only cost time.
            let isTyped = ClaimsOracle.typedMembers.contains { $0.name.unicodeScalars.elementsEqual(member.name) }
            guard isTyped || isShadowed else {
                self.members.append((member.name, NSNull()))
                continue
            }
            let value = Self.decodeAlone(member.value)
            if value == nil {
                // Foundation accepted the text, so only a value it dropped can fail alone.
                guard isShadowed else { return nil }
                hasRefusedShadowedValue = true
            }
            self.members.append((member.name, value))
        }
    }

    var distinctNames: Set<[UInt32]> { Set(members.map { $0.name.map(\.value) }) }

    var hasDuplicateName: Bool { distinctNames.count != members.count }

    private mutating func scanBrackets(_ bytes: [UInt8]) {
        var inString = false
        var escaped = false
        var depth = 0
        var lastSignificant: UInt8 = 0
        for (index, byte) in bytes.enumerated() {
            if inString {
                if bytes[index...].starts(with: [0xEF, 0xBB, 0xBF]) { hasRawByteOrderMarkInString = true }
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                maxDepth = max(maxDepth, depth)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if lastSignificant == UInt8(ascii: ",") { hasTrailingComma = true }
                depth -= 1
            default:
                break
            }
            lastSignificant = byte
        }
    }

    /// The names, decoded, and the raw values.
    private static func topLevelMembers(_ bytes: [UInt8]) -> [(name: [Unicode.Scalar], value: ArraySlice<UInt8>)]? {
        var index = skipWhitespace(bytes, from: 0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var members: [(name: [Unicode.Scalar], value: ArraySlice<UInt8>)] = []
        while true {
            index = skipWhitespace(bytes, from: index)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") { return members }
            let nameEnd = endOfString(bytes, from: index)
            guard let name = decodeName(bytes[index..<nameEnd]) else { return nil }
            index = skipWhitespace(bytes, from: nameEnd)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index = skipWhitespace(bytes, from: index + 1)
            let valueEnd = endOfValue(bytes, from: index)
            members.append((name, bytes[index..<valueEnd]))
            index = skipWhitespace(bytes, from: valueEnd)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") { index += 1 }
        }
    }

    /// A name without escapes is its bytes (valid UTF-8, since Foundation accepted the text), taken as they are even
    /// where Foundation would drop a raw U+FEFF; one with escapes is decoded by Foundation.
    private static func decodeName(_ literal: ArraySlice<UInt8>) -> [Unicode.Scalar]? {
        guard literal.contains(UInt8(ascii: "\\")) else {
            return Array(String(decoding: literal.dropFirst().dropLast(), as: UTF8.self).unicodeScalars)
        }
        return (decodeAlone(literal) as? String).map { Array($0.unicodeScalars) }
    }

    /// One value decoded by Foundation, wrapped in an array because Foundation refuses a bare scalar.
    private static func decodeAlone(_ value: ArraySlice<UInt8>) -> Any? {
        let wrapped = Data([UInt8(ascii: "[")] + value + [UInt8(ascii: "]")])
        return (try? JSONSerialization.jsonObject(with: wrapped) as? [Any])?.first
    }

    private static func skipWhitespace(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        return index
    }

    /// Past the closing quote of the string that opens at `start`.
    private static func endOfString(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start + 1
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            index += 1
            if bytes[index - 1] == UInt8(ascii: "\"") { break }
        }
        return min(index, bytes.count)
    }

    private static func endOfValue(_ bytes: [UInt8], from start: Int) -> Int {
        guard start < bytes.count else { return start }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return endOfString(bytes, from: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    index = endOfString(bytes, from: index)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
                index += 1
                if depth == 0 { break }
            }
            return index
        default:
            var index = start
            let ends: [UInt8] = [0x2C, 0x7D, 0x5D, 0x20, 0x09, 0x0A, 0x0D]
            while index < bytes.count, !ends.contains(bytes[index]) { index += 1 }
            return index
        }
    }
}
