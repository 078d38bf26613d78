import Foundation

/// The inputs ``JSONObjectReader`` refuses on purpose although Foundation's `JSONSerialization` accepts them: the
/// complete list. A refusal of a Foundation-accepted input is a finding unless one of these applies and explains the
/// error kind the reader gave; an acceptance is a finding if any of them applies.
///
/// Each case is confirmed from the input and from Foundation's own reading of it (``JSONTextFacts``), never from the
/// reader's.
enum DeliberateRefusal: CustomStringConvertible {
    /// Longer than ``JSONObjectReader/maxInputLength``: caller tokens are a few hundred bytes.
    case tooLong
    /// RFC 8259 §8.1: JSON exchanged between systems is UTF-8 without a byte order mark. Foundation skips a UTF-8
    /// BOM and detects UTF-16 and UTF-32; the reader treats all of them as bytes that are not JSON, so any error kind.
    case notUTF8Text
    /// The top level is an array (Foundation's other accepted top level); a JOSE header or claims set is an object.
    case notAnObject
    /// Objects and arrays nested deeper than ``JSONObjectReader/maxDepth`` (Foundation allows 512).
    case tooDeep
    /// More than ``JSONObjectReader/maxMembers`` distinct top-level names.
    case tooManyMembers
    /// A top-level name twice (after unescaping): Foundation keeps the last, other parsers the first. The reader
    /// reports the first problem it meets, so where a dropped value holds a number out of range, which Foundation
    /// never converts (``JSONTextFacts/hasRefusedShadowedValue``), it may report that number instead.
    case duplicateMember(refusedShadowedValue: Bool)
    /// `{"a":1,}` or `[1,]`: not RFC 8259, though Foundation allows it.
    case trailingComma
    /// U+FEFF written raw inside a string: Foundation drops it where a string or the text after an escape begins, so
    /// the two would read different names or values (`\ufeff` is read alike, and accepted).
    case rawByteOrderMarkInString
    /// A member tokenmint acts on holding a value of the wrong JSON type (in any of its occurrences): `alg`, `kid`,
    /// `iss`, `sub` must be strings, `aud` a string or an array of strings, `exp`, `nbf`, `iat` numbers.
    case wrongType(String)

    var description: String {
        switch self {
        case .tooLong: "too long"
        case .notUTF8Text: "not UTF-8 without BOM"
        case .notAnObject: "not an object"
        case .tooDeep: "too deep"
        case .tooManyMembers: "too many members"
        case .duplicateMember(let refused):
            refused ? "duplicate member, a dropped value out of range" : "duplicate member"
        case .trailingComma: "trailing comma"
        case .rawByteOrderMarkInString: "raw U+FEFF in a string"
        case .wrongType(let member): "wrong type of \(member)"
        }
    }

    /// Whether this refusal explains the reader's error `kind`: the reader reports the first problem it meets, and
    /// each refusal has the kinds it can surface as.
    func explains(_ kind: JSONObjectReaderError.Kind) -> Bool {
        switch (self, kind) {
        case (.notUTF8Text, _): true
        case (.tooLong, .tooLong), (.notAnObject, .notAnObject), (.tooDeep, .tooDeep),
            (.tooManyMembers, .tooManyMembers), (.duplicateMember, .duplicateMember), (.trailingComma, .syntax),
            (.duplicateMember(refusedShadowedValue: true), .invalidNumber),
            (.duplicateMember(refusedShadowedValue: true), .numberOutOfRange),
            (.rawByteOrderMarkInString, .invalidString):
            true
        case (.wrongType(let member), .wrongType(let named)): member == named
        default: false
        }
    }

    /// The refusals that apply to `bytes`, which Foundation parsed to `value`; `nil` when the harness cannot read
    /// the facts (a harness fault, reported as such).
    static func applying(to bytes: [UInt8], foundationValue value: Any) -> [DeliberateRefusal]? {
        var refusals: [DeliberateRefusal] = []
        if bytes.count > JSONObjectReader.maxInputLength { refusals.append(.tooLong) }
        if isNotUTF8Text(bytes) {
            refusals.append(.notUTF8Text)
            return refusals
        }
        guard value is [String: Any] else {
            refusals.append(.notAnObject)
            return refusals
        }
        guard let facts = JSONTextFacts(utf8: bytes) else { return nil }
        if facts.maxDepth > JSONObjectReader.maxDepth { refusals.append(.tooDeep) }
        if facts.distinctNames.count > JSONObjectReader.maxMembers { refusals.append(.tooManyMembers) }
        if facts.hasDuplicateName {
            refusals.append(.duplicateMember(refusedShadowedValue: facts.hasRefusedShadowedValue))
        }
        if facts.hasTrailingComma { refusals.append(.trailingComma) }
        if facts.hasRawByteOrderMarkInString { refusals.append(.rawByteOrderMarkInString) }
        for member in ClaimsOracle.typedMembers {
            let name = Array(member.name.unicodeScalars)
            if facts.members.contains(where: { $0.name == name && $0.value.map { !member.fits($0) } == true }) {
                refusals.append(.wrongType(member.name))
            }
        }
        return refusals
    }

    /// A byte order mark, or a NUL among the first four bytes, which is how Foundation recognises UTF-16 and UTF-32
    /// (a NUL there is never valid UTF-8 JSON, so Foundation accepting such input means it decoded another encoding).
    static func isNotUTF8Text(_ bytes: [UInt8]) -> Bool {
        let boms: [[UInt8]] = [[0xEF, 0xBB, 0xBF], [0xFE, 0xFF], [0xFF, 0xFE]]
        return boms.contains { bytes.starts(with: $0) } || bytes.prefix(4).contains(0)
    }
}
