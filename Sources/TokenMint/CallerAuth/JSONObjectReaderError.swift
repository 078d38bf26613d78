/// Why ``JSONObjectReader`` refused a JWT header or claims set.
///
/// - Important: ``description`` never echoes a member's value, because the input is an unverified token that may carry
///   anything. It may name a member; a name taken from the input is cut down to printable ASCII and a few dozen
///   characters first, so that a crafted name cannot forge or flood log lines.
public struct JSONObjectReaderError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Longer than ``JSONObjectReader/maxInputLength``.
        case tooLong
        /// Valid JSON may follow, but the top-level value is not an object.
        case notAnObject
        /// The input stops inside the object; also an empty input.
        case unexpectedEnd
        /// A byte that the JSON grammar does not allow where it stands.
        case syntax
        /// A bad escape, a lone surrogate, a raw control character, invalid UTF-8 or a raw U+FEFF inside a string.
        case invalidString
        /// A number outside RFC 8259's grammar (a leading zero, a `+`, a bare `.` or exponent), or one too large for
        /// a `Double` in a member tokenmint does not read (Foundation refuses those too).
        case invalidNumber
        /// Nested deeper than ``JSONObjectReader/maxDepth``.
        case tooDeep
        /// More top-level members than ``JSONObjectReader/maxMembers``.
        case tooManyMembers
        /// Anything but whitespace after the object.
        case trailingData
        /// A top-level member name seen twice, after unescaping; parsers disagree on which one wins.
        case duplicateMember(String)
        /// A member tokenmint acts on holds the wrong kind of value.
        case wrongType(String)
        /// A numeric member too large for a `Double`.
        case numberOutOfRange(String)
    }

    public let kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .tooLong: "JSON object too long"
        case .notAnObject: "JSON value is not an object"
        case .unexpectedEnd: "JSON object ends unexpectedly"
        case .syntax: "JSON syntax error"
        case .invalidString: "invalid JSON string"
        case .invalidNumber: "invalid JSON number"
        case .tooDeep: "JSON nested too deeply"
        case .tooManyMembers: "JSON object has too many members"
        case .trailingData: "data after the JSON object"
        case .duplicateMember(let name): "duplicate JSON member \"\(name)\""
        case .wrongType(let name): "JSON member \"\(name)\" has the wrong type"
        case .numberOutOfRange(let name): "JSON member \"\(name)\" is out of range"
        }
    }
}

extension JSONObjectReaderError {
    /// Longest name kept in a message; longer names are cut and marked with `...`.
    static let maxShownNameLength = 32

    /// A duplicate-member error whose name, taken from untrusted input, is safe to log.
    static func duplicateMember(named name: UnsafeBufferPointer<UInt8>) -> Self {
        var shown = ""
        for byte in name.prefix(maxShownNameLength) {
            let printable = byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
            shown.unicodeScalars.append(Unicode.Scalar(printable ? byte : UInt8(ascii: "?")))
        }
        if name.count > maxShownNameLength { shown += "..." }
        return Self(.duplicateMember(shown))
    }
}
