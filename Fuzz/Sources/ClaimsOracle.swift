import Foundation

/// The differential oracle for ``JSONObjectReader``: Foundation's `JSONSerialization` is the reference.
///
/// - Both accept: the reader's `alg`, `kid`, `typ`, `iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `user`, `team` and
///   `crit` presence are what Foundation read, and no ``DeliberateRefusal`` applies (else the reader let through what
///   it documents refusing).
/// - Foundation refuses: the reader refuses too.
/// - Only the reader refuses: a ``DeliberateRefusal`` applies and explains the reader's error kind.
///
/// Strings compare by Unicode scalars, never by `String ==`, which would equate canonically equivalent spellings.
/// Numbers compare exactly, except that a number Foundation keeps as `NSDecimalNumber` (more digits than an `Int64`
/// or `Double` takes) may differ by one unit in the last place: `Decimal` holds 38 digits and rounds on its own.
enum ClaimsOracle {
    /// A member whose JSON type the reader checks.
    struct TypedMember: Sendable {
        enum Kind {
            case string
            /// Kept when a string, any other value skipped (nil) rather than refused: `typ`, `user`, `team`.
            case stringIfString
            case audience
            case number
        }

        let name: String
        let kind: Kind
        let field: @Sendable (JWTJSONFields) -> Any?

        func fits(_ value: Any) -> Bool {
            switch kind {
            case .string: value is String
            case .stringIfString: true
            case .audience: value is String || (value as? [Any])?.allSatisfy { $0 is String } == true
            case .number: (value as? NSNumber).map { !ClaimsOracle.isBoolean($0) } ?? false
            }
        }
    }

    static let typedMembers: [TypedMember] = [
        TypedMember(name: "alg", kind: .string) { $0.alg },
        TypedMember(name: "kid", kind: .string) { $0.kid },
        TypedMember(name: "iss", kind: .string) { $0.iss },
        TypedMember(name: "sub", kind: .string) { $0.sub },
        TypedMember(name: "aud", kind: .audience) { $0.aud },
        TypedMember(name: "exp", kind: .number) { $0.exp },
        TypedMember(name: "nbf", kind: .number) { $0.nbf },
        TypedMember(name: "iat", kind: .number) { $0.iat },
        TypedMember(name: "typ", kind: .stringIfString) { $0.typ },
        TypedMember(name: "user", kind: .stringIfString) { $0.user },
        TypedMember(name: "team", kind: .stringIfString) { $0.team },
    ]

    static func check(_ bytes: [UInt8]) {
        let reader = Result { () throws(JSONObjectReaderError) in try JSONObjectReader.read(bytes) }
        let foundation = Result { try JSONSerialization.jsonObject(with: Data(bytes)) }
        switch (reader, foundation) {
        case (.failure, .failure):
            return
        case (.success, .failure(let error)):
            Finding.report("reader accepted what Foundation refuses (\(error))", input: bytes)
        case (.failure(let error), .success(let value)):
            guard let refusals = DeliberateRefusal.applying(to: bytes, foundationValue: value) else {
                Finding.report("harness could not read the facts of a Foundation-accepted input", input: bytes)
            }
            guard refusals.contains(where: { $0.explains(error.kind) }) else {
                Finding.report("reader refused (\(error)) with no listed reason; applying: \(refusals)", input: bytes)
            }
        case (.success(let fields), .success(let value)):
            guard let refusals = DeliberateRefusal.applying(to: bytes, foundationValue: value) else {
                Finding.report("harness could not read the facts of a Foundation-accepted input", input: bytes)
            }
            guard refusals.isEmpty else { Finding.report("reader accepted despite \(refusals)", input: bytes) }
            compare(fields, with: value as! [String: Any], input: bytes)
        }
    }

    static func compare(_ fields: JWTJSONFields, with object: [String: Any], input: [UInt8]) {
        if fields.hasCrit != (object["crit"] != nil) {
            Finding.report("crit presence differs", input: input)
        }
        for member in typedMembers {
            let mine = member.field(fields)
            var theirs = object[member.name]
            if member.kind == .stringIfString, !(theirs is String) { theirs = nil }
            guard let theirs else {
                if mine != nil { Finding.report("reader found \(member.name), Foundation did not", input: input) }
                continue
            }
            guard let mine, agree(mine, theirs, kind: member.kind) else {
                Finding.report("\(member.name) differs", input: input)
            }
        }
    }

    static func agree(_ mine: Any, _ theirs: Any, kind: TypedMember.Kind) -> Bool {
        switch kind {
        case .string, .stringIfString:
            guard let mine = mine as? String, let theirs = theirs as? String else { return false }
            return sameScalars(mine, theirs)
        case .audience:
            guard let mine = mine as? [String] else { return false }
            let expected = (theirs as? String).map { [$0] } ?? (theirs as? [Any])?.compactMap { $0 as? String }
            guard let expected, expected.count == mine.count else { return false }
            return zip(mine, expected).allSatisfy(sameScalars)
        case .number:
            guard let mine = mine as? Double, let theirs = theirs as? NSNumber, !isBoolean(theirs) else { return false }
            guard theirs is NSDecimalNumber else { return mine == theirs.doubleValue }
            guard let expected = Double(theirs.description) else { return false }
            return mine == expected || mine == expected.nextUp || mine == expected.nextDown
        }
    }

    static func sameScalars(_ lhs: String, _ rhs: String) -> Bool {
        lhs.unicodeScalars.elementsEqual(rhs.unicodeScalars)
    }

    /// Foundation returns `true` and `false` as an `NSNumber` subclass whose `objCType` is `c`; no JSON number comes
    /// back with that type.
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
