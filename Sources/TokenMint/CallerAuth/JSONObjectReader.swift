/// The top-level members of a JWT header or claims set that tokenmint acts on; every other member is validated as JSON
/// and skipped.
public struct JWTJSONFields: Sendable, Equatable {
    /// Header.
    public var alg: String?
    /// Header.
    public var kid: String?
    /// Header: the token's media type (`JWT`, `at+jwt`), for `CALLER_JWT_TYPES`; kept only when a string.
    public var typ: String?
    /// Header: whether a `crit` member is present at all, since tokenmint understands no extension and must refuse any.
    public var hasCrit: Bool
    public var iss: String?
    public var sub: String?
    /// A single string `aud` becomes one element, so callers need not care which form the issuer chose.
    public var aud: [String]?
    /// NumericDate, seconds since the epoch; fractions are allowed.
    public var exp: Double?
    public var nbf: Double?
    public var iat: Double?
    /// Miro id tokens: the Miro user and team, for the audit line. Kept only when they are strings; any other value
    /// is skipped rather than refused, since a site's own tokens may use these names for anything.
    public var user: String?
    public var team: String?

    public init(
        alg: String? = nil,
        kid: String? = nil,
        hasCrit: Bool = false,
        iss: String? = nil,
        sub: String? = nil,
        aud: [String]? = nil,
        exp: Double? = nil,
        nbf: Double? = nil,
        iat: Double? = nil,
        typ: String? = nil,
        user: String? = nil,
        team: String? = nil
    ) {
        self.alg = alg
        self.kid = kid
        self.hasCrit = hasCrit
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.exp = exp
        self.nbf = nbf
        self.iat = iat
        self.typ = typ
        self.user = user
        self.team = team
    }
}

/// A strict RFC 8259 reader for the one shape tokenmint parses on every request: a small JSON object of which only a
/// few top-level members matter and the rest need only be well formed.
///
/// Hand-written rather than `JSONDecoder` because it runs per request on unverified input: about 8 µs and 28
/// allocations less per request than `JSONDecoder` (`Benchmarks/ReaderComparison`). It allocates nothing but the
/// strings it returns, bounds size, depth and member count, and refuses what lenient parsers let through (duplicate
/// names, lone surrogates, invalid UTF-8, trailing data, a raw U+FEFF, numbers no `Double` holds), so that no other
/// parser can read a different meaning into a token this one accepted.
///
/// - Important: `Fuzz/` checks it against Foundation's `JSONSerialization` (a differential oracle, its deliberate
///   extra refusals listed there); a member added to ``JWTJSONFields`` belongs in that oracle too.
public enum JSONObjectReader {
    /// Tokens are a few hundred bytes; far more is abuse. The cap also bounds the stack scratch space.
    public static let maxInputLength = 8 * 1024
    /// Deep enough for any real claim, shallow enough that the recursive skip cannot exhaust the stack.
    /// The top-level object counts as depth 1.
    public static let maxDepth = 16
    /// Bounds the quadratic duplicate-name check.
    public static let maxMembers = 64

    /// Parses `bytes` as one JSON object (RFC 8259, strict) and returns the known members.
    public static func read(_ bytes: [UInt8]) throws(JSONObjectReaderError) -> JWTJSONFields {
        try bytes.withUnsafeBufferPointer { input throws(JSONObjectReaderError) in try read(input) }
    }

    /// As ``read(_:)-([UInt8])``, from bytes in place (a decoded token segment).
    public static func read(_ input: UnsafeBufferPointer<UInt8>) throws(JSONObjectReaderError) -> JWTJSONFields {
        var fields = JWTJSONFields()
        try read(input, into: &fields)
        return fields
    }

    /// As ``read(_:)-(UnsafeBufferPointer<UInt8>)``, into `fields`, which must be empty (`JWTJSONFields()`):
    /// members absent from the input keep the values `fields` had, and on a throw `fields` is partly written and
    /// must not be used. The request path reads every caller token's header and claims this way, so a value of a
    /// dozen optional members is not copied out of the parser and through an optional.
    public static func read(
        _ input: UnsafeBufferPointer<UInt8>,
        into fields: inout JWTJSONFields
    ) throws(JSONObjectReaderError) {
        guard input.count <= maxInputLength else { throw JSONObjectReaderError(.tooLong) }
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(input.count, 1)) {
            scratch throws(JSONObjectReaderError) in
            try withUnsafeTemporaryAllocation(of: UnsafeBufferPointer<UInt8>.self, capacity: maxMembers) {
                names throws(JSONObjectReaderError) in
                var parser = JSONObjectParser(input: input, scratch: scratch, names: names)
                try parser.readObject(into: &fields)
            }
        }
    }
}

/// The members ``JSONObjectReader`` keeps; the raw value doubles as the name reported in errors.
private enum KnownMember: String, CaseIterable {
    case alg, kid, typ, crit, iss, sub, aud, exp, nbf, iat, user, team

    /// Matches the unescaped name: its bytes packed into one integer (first byte lowest) and its length, compared
    /// with constants the compiler folds. This runs for every member of every caller token; the length test first
    /// keeps the common unknown member cheap, and `alg` and `alg\u0000` pack alike, so the length is part of the
    /// match.
    init?(_ name: UnsafeBufferPointer<UInt8>) {
        switch name.count {
        case 3:
            switch Self.pack(name) {
            case Self.packed("a", "l", "g"): self = .alg
            case Self.packed("k", "i", "d"): self = .kid
            case Self.packed("t", "y", "p"): self = .typ
            case Self.packed("i", "s", "s"): self = .iss
            case Self.packed("s", "u", "b"): self = .sub
            case Self.packed("a", "u", "d"): self = .aud
            case Self.packed("e", "x", "p"): self = .exp
            case Self.packed("n", "b", "f"): self = .nbf
            case Self.packed("i", "a", "t"): self = .iat
            default: return nil
            }
        case 4:
            switch Self.pack(name) {
            case Self.packed("c", "r", "i", "t"): self = .crit
            case Self.packed("u", "s", "e", "r"): self = .user
            case Self.packed("t", "e", "a", "m"): self = .team
            default: return nil
            }
        default:
            return nil
        }
    }

    private static func pack(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var packed: UInt32 = 0
        for (position, byte) in bytes.enumerated() { packed |= UInt32(byte) << (8 * UInt32(position)) }
        return packed
    }

    /// A 3- or 4-letter ASCII name as ``pack(_:)`` packs its bytes; folded to a constant where it is used.
    @inline(__always)
    private static func packed(
        _ first: Unicode.Scalar,
        _ second: Unicode.Scalar,
        _ third: Unicode.Scalar,
        _ fourth: Unicode.Scalar? = nil
    ) -> UInt32 {
        first.value | second.value << 8 | third.value << 16 | (fourth?.value ?? 0) << 24
    }
}

/// A string's position in the input, between (not including) its quotes.
private struct RawString {
    var start: Int
    var end: Int
    /// Strings without escapes are used in place; only escaped ones are decoded into the scratch space.
    var hasEscapes: Bool
}

/// A number's position in the input.
private struct RawNumber {
    var start: Int
    var end: Int
    /// No fraction, no exponent and at most 15 digits: exact in a `Double` and computed without a string.
    var isSmallInteger: Bool
    /// Below 10^308 by its digit count and exponent alone, so finite in a `Double` without converting it; only a
    /// number that might not be (never one in a real token) is converted to find out.
    var isSurelyFinite: Bool
}

/// One pass over the input.
///
/// Every read is bounds-checked by hand, because `UnsafeBufferPointer` checks only in debug builds. Strings are fully
/// validated (escapes, surrogates, UTF-8, control characters) while being scanned, skipped ones included, so that
/// decoding a kept string afterwards cannot fail.
private struct JSONObjectParser {
    let input: UnsafeBufferPointer<UInt8>
    /// Where escaped strings are decoded. An unescaped string is never longer than its escaped form, and the strings
    /// decoded here come from disjoint parts of the input, so the input's length always suffices.
    let scratch: UnsafeMutableBufferPointer<UInt8>
    var scratchUsed = 0
    /// Unescaped top-level member names seen so far, in the input or the scratch space, for the duplicate check.
    let names: UnsafeMutableBufferPointer<UnsafeBufferPointer<UInt8>>
    var nameCount = 0
    var index = 0

    init(
        input: UnsafeBufferPointer<UInt8>,
        scratch: UnsafeMutableBufferPointer<UInt8>,
        names: UnsafeMutableBufferPointer<UnsafeBufferPointer<UInt8>>
    ) {
        self.input = input
        self.scratch = scratch
        self.names = names
    }

    // MARK: - The top-level object

    mutating func readObject(into fields: inout JWTJSONFields) throws(JSONObjectReaderError) {
        skipWhitespace()
        guard try peek() == UInt8(ascii: "{") else { throw JSONObjectReaderError(.notAnObject) }
        index += 1
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                try readMember(into: &fields)
                skipWhitespace()
                let byte = try next()
                if byte == UInt8(ascii: "}") { break }
                guard byte == UInt8(ascii: ",") else { throw JSONObjectReaderError(.syntax) }
                skipWhitespace()
            }
        }
        skipWhitespace()
        guard index == input.count else { throw JSONObjectReaderError(.trailingData) }
    }

    mutating func readMember(into fields: inout JWTJSONFields) throws(JSONObjectReaderError) {
        guard try peek() == UInt8(ascii: "\"") else { throw JSONObjectReaderError(.syntax) }
        let name = try unescaped(try scanString(), keep: true)
        try remember(name)
        skipWhitespace()
        guard try next() == UInt8(ascii: ":") else { throw JSONObjectReaderError(.syntax) }
        skipWhitespace()
        switch KnownMember(name) {
        case .alg: fields.alg = try readString(.alg)
        case .kid: fields.kid = try readString(.kid)
        case .iss: fields.iss = try readString(.iss)
        case .sub: fields.sub = try readString(.sub)
        case .aud: fields.aud = try readAudience()
        case .exp: fields.exp = try readNumericDate(.exp)
        case .nbf: fields.nbf = try readNumericDate(.nbf)
        case .iat: fields.iat = try readNumericDate(.iat)
        case .typ: fields.typ = try readStringOrSkip()
        case .user: fields.user = try readStringOrSkip()
        case .team: fields.team = try readStringOrSkip()
        case .crit:
            try skipValue(depth: 1)
            fields.hasCrit = true
        case nil: try skipValue(depth: 1)
        }
    }

    /// Refuses any repeated name, known or not: parsers disagree on which duplicate wins, and a token must mean the
    /// same thing to every party that reads it.
    mutating func remember(_ name: UnsafeBufferPointer<UInt8>) throws(JSONObjectReaderError) {
        for seen in names[0..<nameCount] where seen.count == name.count && seen.elementsEqual(name) {
            throw JSONObjectReaderError.duplicateMember(named: name)
        }
        guard nameCount < names.count else { throw JSONObjectReaderError(.tooManyMembers) }
        names[nameCount] = name
        nameCount += 1
    }

    /// Validates a wrongly typed value before refusing it, so that a syntax error behind it still reads as one.
    mutating func wrongType(_ member: KnownMember) throws(JSONObjectReaderError) -> Never {
        try skipValue(depth: 1)
        throw JSONObjectReaderError(.wrongType(member.rawValue))
    }

    mutating func readString(_ member: KnownMember) throws(JSONObjectReaderError) -> String {
        guard try peek() == UInt8(ascii: "\"") else { try wrongType(member) }
        return try makeString(try scanString())
    }

    mutating func readStringOrSkip() throws(JSONObjectReaderError) -> String? {
        guard try peek() == UInt8(ascii: "\"") else {
            try skipValue(depth: 1)
            return nil
        }
        return try makeString(try scanString())
    }

    mutating func readAudience() throws(JSONObjectReaderError) -> [String] {
        let first = try peek()
        if first == UInt8(ascii: "\"") { return [try makeString(try scanString())] }
        guard first == UInt8(ascii: "[") else { try wrongType(.aud) }
        index += 1
        var audience: [String] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return audience
        }
        while true {
            guard try peek() == UInt8(ascii: "\"") else {
                try skipValue(depth: 2)
                throw JSONObjectReaderError(.wrongType(KnownMember.aud.rawValue))
            }
            audience.append(try makeString(try scanString()))
            skipWhitespace()
            let byte = try next()
            if byte == UInt8(ascii: "]") { return audience }
            guard byte == UInt8(ascii: ",") else { throw JSONObjectReaderError(.syntax) }
            skipWhitespace()
        }
    }

    mutating func readNumericDate(_ member: KnownMember) throws(JSONObjectReaderError) -> Double {
        let first = try peek()
        guard first == UInt8(ascii: "-") || Self.isDigit(first) else { try wrongType(member) }
        guard let number = value(of: try scanNumber()), number.isFinite else {
            throw JSONObjectReaderError(.numberOutOfRange(member.rawValue))
        }
        return number
    }

    // MARK: - Skipping values

    /// Validates and passes over one value inside a container at `depth`.
    mutating func skipValue(depth: Int) throws(JSONObjectReaderError) {
        switch try peek() {
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "{"):
            guard depth < JSONObjectReader.maxDepth else { throw JSONObjectReaderError(.tooDeep) }
            try skipObject(depth: depth + 1)
        case UInt8(ascii: "["):
            guard depth < JSONObjectReader.maxDepth else { throw JSONObjectReaderError(.tooDeep) }
            try skipArray(depth: depth + 1)
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            // Refused even where tokenmint never reads it: Foundation and others refuse a number no Double holds, and
            // a token must not be valid to one party and invalid to another.
            let number = try scanNumber()
            guard number.isSurelyFinite || value(of: number)?.isFinite == true else {
                throw JSONObjectReaderError(.invalidNumber)
            }
        default: throw JSONObjectReaderError(.syntax)
        }
    }

    /// Nested names are not checked for duplicates: tokenmint never reads them.
    mutating func skipObject(depth: Int) throws(JSONObjectReaderError) {
        index += 1
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            guard try peek() == UInt8(ascii: "\"") else { throw JSONObjectReaderError(.syntax) }
            _ = try scanString()
            skipWhitespace()
            guard try next() == UInt8(ascii: ":") else { throw JSONObjectReaderError(.syntax) }
            skipWhitespace()
            try skipValue(depth: depth)
            skipWhitespace()
            let byte = try next()
            if byte == UInt8(ascii: "}") { return }
            guard byte == UInt8(ascii: ",") else { throw JSONObjectReaderError(.syntax) }
            skipWhitespace()
        }
    }

    mutating func skipArray(depth: Int) throws(JSONObjectReaderError) {
        index += 1
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            try skipValue(depth: depth)
            skipWhitespace()
            let byte = try next()
            if byte == UInt8(ascii: "]") { return }
            guard byte == UInt8(ascii: ",") else { throw JSONObjectReaderError(.syntax) }
            skipWhitespace()
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONObjectReaderError) {
        for position in 0..<literal.utf8CodeUnitCount {
            guard try next() == literal.utf8Start[position] else { throw JSONObjectReaderError(.syntax) }
        }
    }

    // MARK: - Strings

    /// Validates the string whose opening quote is at `index` and moves past its closing quote.
    mutating func scanString() throws(JSONObjectReaderError) -> RawString {
        index += 1
        let start = index
        var hasEscapes = false
        while true {
            let byte = try peek()
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return RawString(start: start, end: index - 1, hasEscapes: hasEscapes)
            case UInt8(ascii: "\\"):
                hasEscapes = true
                try scanEscape()
            case 0x20..<0x80: index += 1
            case ..<0x20: throw JSONObjectReaderError(.invalidString)
            default: try scanUTF8Sequence(lead: byte)
            }
        }
    }

    /// Passes over the escape at `index`; a `\u` high surrogate must be followed by a `\u` low surrogate.
    mutating func scanEscape() throws(JSONObjectReaderError) {
        index += 1
        switch try next() {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return
        case UInt8(ascii: "u"):
            switch try readHexQuad() {
            case 0xD800...0xDBFF:
                guard try next() == UInt8(ascii: "\\"), try next() == UInt8(ascii: "u"),
                    (0xDC00...0xDFFF).contains(try readHexQuad())
                else { throw JSONObjectReaderError(.invalidString) }
            case 0xDC00...0xDFFF: throw JSONObjectReaderError(.invalidString)
            default: return
            }
        default: throw JSONObjectReaderError(.invalidString)
        }
    }

    /// Reads the four hex digits at `index`, moving past them.
    mutating func readHexQuad() throws(JSONObjectReaderError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = try next()
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- UInt8(ascii: "A") &+ 10
            default: throw JSONObjectReaderError(.invalidString)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Checks one multi-byte UTF-8 sequence against RFC 3629's table, which excludes overlong forms, surrogates and
    /// code points past U+10FFFF, and refuses U+FEFF in raw form (`\ufeff` is fine): Foundation drops it as a byte
    /// order mark at the start of a string or after an escape, so `"\u{FEFF}alg"` would name `alg` to Foundation and
    /// not to this reader.
    mutating func scanUTF8Sequence(lead: UInt8) throws(JSONObjectReaderError) {
        let length: Int
        let second: ClosedRange<UInt8>
        switch lead {
        case 0xC2...0xDF: (length, second) = (2, 0x80...0xBF)
        case 0xE0: (length, second) = (3, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, second) = (3, 0x80...0xBF)
        case 0xED: (length, second) = (3, 0x80...0x9F)
        case 0xF0: (length, second) = (4, 0x90...0xBF)
        case 0xF1...0xF3: (length, second) = (4, 0x80...0xBF)
        case 0xF4: (length, second) = (4, 0x80...0x8F)
        default: throw JSONObjectReaderError(.invalidString)
        }
        guard input.count - index >= length else { throw JSONObjectReaderError(.unexpectedEnd) }
        guard second.contains(input[index + 1]) else { throw JSONObjectReaderError(.invalidString) }
        for offset in 2..<length where input[index + offset] & 0xC0 != 0x80 {
            throw JSONObjectReaderError(.invalidString)
        }
        if lead == 0xEF, input[index + 1] == 0xBB, input[index + 2] == 0xBF {
            throw JSONObjectReaderError(.invalidString)
        }
        index += length
    }

    /// The string's bytes with escapes resolved: in place when it has none, else decoded into the scratch space,
    /// where `keep` reserves them beyond the next decode.
    mutating func unescaped(_ raw: RawString, keep: Bool) throws(JSONObjectReaderError) -> UnsafeBufferPointer<UInt8> {
        guard raw.hasEscapes else { return UnsafeBufferPointer(rebasing: input[raw.start..<raw.end]) }
        let base = scratchUsed
        var out = base
        let resume = index
        index = raw.start
        defer { index = resume }
        while index < raw.end {
            let byte = input[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                scratch[out] = byte
                out += 1
                continue
            }
            let escape = input[index]
            index += 1
            switch escape {
            case UInt8(ascii: "b"): append(0x08, at: &out)
            case UInt8(ascii: "f"): append(0x0C, at: &out)
            case UInt8(ascii: "n"): append(0x0A, at: &out)
            case UInt8(ascii: "r"): append(0x0D, at: &out)
            case UInt8(ascii: "t"): append(0x09, at: &out)
            case UInt8(ascii: "u"):
                var scalar = try readHexQuad()
                if (0xD800...0xDBFF).contains(scalar) {
                    index += 2
                    scalar = 0x10000 + (scalar - 0xD800) << 10 + (try readHexQuad() - 0xDC00)
                }
                appendUTF8(scalar, at: &out)
            default: append(escape, at: &out)
            }
        }
        if keep { scratchUsed = out }
        return UnsafeBufferPointer(rebasing: scratch[base..<out])
    }

    func append(_ byte: UInt8, at out: inout Int) {
        scratch[out] = byte
        out += 1
    }

    func appendUTF8(_ scalar: UInt32, at out: inout Int) {
        switch scalar {
        case ..<0x80:
            append(UInt8(scalar), at: &out)
        case ..<0x800:
            append(UInt8(0xC0 | scalar >> 6), at: &out)
            append(UInt8(0x80 | scalar & 0x3F), at: &out)
        case ..<0x10000:
            append(UInt8(0xE0 | scalar >> 12), at: &out)
            append(UInt8(0x80 | scalar >> 6 & 0x3F), at: &out)
            append(UInt8(0x80 | scalar & 0x3F), at: &out)
        default:
            append(UInt8(0xF0 | scalar >> 18), at: &out)
            append(UInt8(0x80 | scalar >> 12 & 0x3F), at: &out)
            append(UInt8(0x80 | scalar >> 6 & 0x3F), at: &out)
            append(UInt8(0x80 | scalar & 0x3F), at: &out)
        }
    }

    /// `String(decoding:)` rather than `String(validating:)`: ``scanString()`` already proved the bytes valid UTF-8,
    /// and the decoding initialiser has the contiguous fast path.
    mutating func makeString(_ raw: RawString) throws(JSONObjectReaderError) -> String {
        String(decoding: try unescaped(raw, keep: false), as: UTF8.self)
    }

    // MARK: - Numbers

    /// Checks RFC 8259's number grammar at `index` and moves past the number.
    mutating func scanNumber() throws(JSONObjectReaderError) -> RawNumber {
        let start = index
        if input[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        let first = try next()
        if first == UInt8(ascii: "0") {
            if index < input.count, Self.isDigit(input[index]) { throw JSONObjectReaderError(.invalidNumber) }
        } else if Self.isDigit(first) {
            skipDigits()
        } else {
            throw JSONObjectReaderError(.invalidNumber)
        }
        // Without a leading zero the integer part has exactly this many digits, so the number is below 10^digits.
        let integerDigits = first == UInt8(ascii: "0") ? 0 : index - integerStart
        var isSmallInteger = integerDigits <= 15
        if index < input.count, input[index] == UInt8(ascii: ".") {
            index += 1
            try requireDigits()
            isSmallInteger = false
        }
        var exponent = 0
        if index < input.count, input[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            var sign = 1
            if index < input.count, input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-") {
                if input[index] == UInt8(ascii: "-") { sign = -1 }
                index += 1
            }
            let exponentStart = index
            try requireDigits()
            // Saturated: an exponent this large already decides the magnitude.
            for digit in input[exponentStart..<index] where exponent < 100_000 {
                exponent = exponent * 10 + Int(digit &- UInt8(ascii: "0"))
            }
            exponent *= sign
            isSmallInteger = false
        }
        return RawNumber(
            start: start,
            end: index,
            isSmallInteger: isSmallInteger,
            isSurelyFinite: integerDigits + exponent <= 308
        )
    }

    mutating func requireDigits() throws(JSONObjectReaderError) {
        guard Self.isDigit(try peek()) else { throw JSONObjectReaderError(.invalidNumber) }
        skipDigits()
    }

    mutating func skipDigits() {
        while index < input.count, Self.isDigit(input[index]) { index += 1 }
    }

    /// `nil` or infinite when the number does not fit a `Double`.
    func value(of raw: RawNumber) -> Double? {
        let lexeme = UnsafeBufferPointer(rebasing: input[raw.start..<raw.end])
        guard raw.isSmallInteger else { return Double(String(decoding: lexeme, as: UTF8.self)) }
        let isNegative = lexeme[0] == UInt8(ascii: "-")
        var magnitude: Int64 = 0
        for digit in lexeme.dropFirst(isNegative ? 1 : 0) {
            magnitude = magnitude * 10 + Int64(digit &- UInt8(ascii: "0"))
        }
        let value = Double(magnitude)
        return isNegative ? -value : value
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    // MARK: - Cursor

    mutating func skipWhitespace() {
        while index < input.count {
            switch input[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    func peek() throws(JSONObjectReaderError) -> UInt8 {
        guard index < input.count else { throw JSONObjectReaderError(.unexpectedEnd) }
        return input[index]
    }

    mutating func next() throws(JSONObjectReaderError) -> UInt8 {
        let byte = try peek()
        index += 1
        return byte
    }
}
