import Testing
import TokenMint

@Suite struct JSONObjectReaderTests {
    func read(_ json: String) throws(JSONObjectReaderError) -> JWTJSONFields {
        try JSONObjectReader.read(Array(json.utf8))
    }

    func error(_ kind: JSONObjectReaderError.Kind) -> JSONObjectReaderError {
        JSONObjectReaderError(kind)
    }

    /// A JSON string holding one byte that is not valid UTF-8 on its own.
    func bytes(withStringByte byte: UInt8) -> [UInt8] {
        Array(#"{"sub":""#.utf8) + [byte] + Array(#""}"#.utf8)
    }

    // MARK: - Accepted

    @Test func typicalHeader() throws {
        #expect(try read(#"{"alg":"HS256","typ":"JWT"}"#) == JWTJSONFields(alg: "HS256", typ: "JWT"))
    }

    /// Member names match whole: a known name with a NUL (or anything) after it, or a prefix of one, is unknown.
    @Test func knownNamesMatchOnlyWhole() throws {
        #expect(try read(#"{"alg\u0000":"HS256","al":"x","algx":"y","sub\u0000":"z"}"#) == JWTJSONFields())
        #expect(try read(#"{"te\u0061m":"t","user":"u","exp":1}"#) == JWTJSONFields(exp: 1, user: "u", team: "t"))
    }

    @Test func headerWithKidAndCrit() throws {
        let fields = try read(#"{"alg":"RS256","kid":"k1","crit":["b64"],"b64":false}"#)
        #expect(fields == JWTJSONFields(alg: "RS256", kid: "k1", hasCrit: true))
    }

    @Test func claimsWithAllFields() throws {
        let json = #"{"iss":"https://issuer","sub":"u1","aud":["a","b"],"exp":1700000000,"nbf":1699999990,"iat":-5}"#
        let expected = JWTJSONFields(
            iss: "https://issuer",
            sub: "u1",
            aud: ["a", "b"],
            exp: 1_700_000_000,
            nbf: 1_699_999_990,
            iat: -5
        )
        #expect(try read(json) == expected)
    }

    @Test func audienceAsStringOrArray() throws {
        #expect(try read(#"{"aud":"x"}"#).aud == ["x"])
        #expect(try read(#"{"aud":["x","y"]}"#).aud == ["x", "y"])
        #expect(try read(#"{"aud":[]}"#).aud == [])
        #expect(try read(#"{}"#).aud == nil)
    }

    @Test func fractionalAndExponentNumbers() throws {
        #expect(try read(#"{"exp":1700000000.5}"#).exp == 1_700_000_000.5)
        #expect(try read(#"{"exp":1.7E9}"#).exp == 1.7e9)
        #expect(try read(#"{"exp":17e+8}"#).exp == 1.7e9)
        #expect(try read(#"{"exp":1e-2}"#).exp == 0.01)
        #expect(try read(#"{"exp":-0}"#).exp == 0)
        #expect(try read(#"{"exp":1700000000123456}"#).exp == 1_700_000_000_123_456)
    }

    @Test func escapesAndSurrogatePairs() throws {
        let json = #"{"sub":"\u0041\ud83d\ude00\"\\\/\b\f\n\r\t\u00e9\u20AC"}"#
        #expect(try read(json).sub == "A😀\"\\/\u{8}\u{C}\n\r\té€")
        #expect(try read(#"{"sub":"héllo 😀"}"#).sub == "héllo 😀")
    }

    @Test func memberNamesCompareUnescaped() throws {
        #expect(try read(#"{"\u0061lg":"x"}"#).alg == "x")
    }

    @Test func nestedUnknownMembersAreSkipped() throws {
        let json = #"{"x":{"a":[1,2.5,-3e2,true,false,null,{"b":{}},[]],"c":"d"},"alg":"A"}"#
        #expect(try read(json) == JWTJSONFields(alg: "A"))
        let deepest = #"{"x":"# + String(repeating: "[", count: 15) + String(repeating: "]", count: 15) + "}"
        #expect(try read(deepest) == JWTJSONFields())
    }

    @Test func whitespaceAroundTokens() throws {
        #expect(try read(" \t\r\n{ \"alg\" : \"x\" ,\n\"exp\" :\t1 } \n") == JWTJSONFields(alg: "x", exp: 1))
    }

    // MARK: - Refused

    @Test func duplicateMembers() {
        #expect(throws: error(.duplicateMember("alg"))) { try read(#"{"alg":"a","alg":"b"}"#) }
        #expect(throws: error(.duplicateMember("x"))) { try read(#"{"x":1,"x":2}"#) }
        #expect(throws: error(.duplicateMember("x"))) { try read(#"{"x":1,"\u0078":2}"#) }
    }

    @Test func duplicateNameIsSanitisedForLogs() {
        #expect(throws: error(.duplicateMember("x?"))) { try read(#"{"x\n":1,"x\u000a":2}"#) }
        let long = String(repeating: "y", count: 40)
        #expect(throws: error(.duplicateMember(String(repeating: "y", count: 32) + "..."))) {
            try read(#"{"\#(long)":1,"\#(long)":2}"#)
        }
    }

    @Test func trailingGarbage() {
        #expect(throws: error(.trailingData)) { try read(#"{"alg":"a"}x"#) }
        #expect(throws: error(.trailingData)) { try read(#"{}{}"#) }
    }

    @Test func invalidNumbers() {
        #expect(throws: error(.invalidNumber)) { try read(#"{"exp":01}"#) }
        #expect(throws: error(.invalidNumber)) { try read(#"{"x":-01}"#) }
        #expect(throws: error(.invalidNumber)) { try read(#"{"x":1.}"#) }
        #expect(throws: error(.invalidNumber)) { try read(#"{"x":1e}"#) }
        #expect(throws: error(.syntax)) { try read(#"{"x":+1}"#) }
        #expect(throws: error(.syntax)) { try read(#"{"x":.5}"#) }
        #expect(throws: error(.syntax)) { try read(#"{"x":NaN}"#) }
        #expect(throws: error(.numberOutOfRange("exp"))) { try read(#"{"exp":1e400}"#) }
    }

    @Test func loneSurrogates() {
        #expect(throws: error(.invalidString)) { try read(#"{"sub":"\ud800"}"#) }
        #expect(throws: error(.invalidString)) { try read(#"{"sub":"\udc00"}"#) }
        #expect(throws: error(.invalidString)) { try read(#"{"x":"\ud800\u0041"}"#) }
    }

    @Test func badEscapes() {
        #expect(throws: error(.invalidString)) { try read(#"{"x":"\x"}"#) }
        #expect(throws: error(.invalidString)) { try read(#"{"x":"\u12g4"}"#) }
    }

    @Test func controlCharacterInString() {
        #expect(throws: error(.invalidString)) { try read("{\"sub\":\"a\tb\"}") }
        #expect(throws: error(.invalidString)) { try read("{\"x\":\"a\u{1}b\"}") }
    }

    @Test func invalidUTF8() {
        #expect(throws: error(.invalidString)) { try JSONObjectReader.read(bytes(withStringByte: 0xFF)) }
        #expect(throws: error(.invalidString)) { try JSONObjectReader.read(bytes(withStringByte: 0x80)) }
        let overlong = Array(#"{"sub":""#.utf8) + [0xC0, 0x80] + Array(#""}"#.utf8)
        #expect(throws: error(.invalidString)) { try JSONObjectReader.read(overlong) }
        let encodedSurrogate = Array(#"{"x":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8)
        #expect(throws: error(.invalidString)) { try JSONObjectReader.read(encodedSurrogate) }
    }

    @Test func wrongTypes() {
        #expect(throws: error(.wrongType("exp"))) { try read(#"{"exp":"1700000000"}"#) }
        #expect(throws: error(.wrongType("alg"))) { try read(#"{"alg":1}"#) }
        #expect(throws: error(.wrongType("alg"))) { try read(#"{"alg":null}"#) }
        #expect(throws: error(.wrongType("aud"))) { try read(#"{"aud":["a",1]}"#) }
        #expect(throws: error(.wrongType("aud"))) { try read(#"{"aud":{}}"#) }
        #expect(throws: error(.wrongType("kid"))) { try read(#"{"kid":["k"]}"#) }
    }

    @Test func notAnObject() {
        #expect(throws: error(.notAnObject)) { try read(#"["alg"]"#) }
        #expect(throws: error(.notAnObject)) { try read(#""alg""#) }
        #expect(throws: error(.notAnObject)) { try read("null") }
    }

    @Test func tooDeep() {
        let json = #"{"x":"# + String(repeating: "[", count: 16) + String(repeating: "]", count: 16) + "}"
        #expect(throws: error(.tooDeep)) { try read(json) }
        #expect(throws: error(.tooDeep)) { try read(#"{"x":"# + String(repeating: "{\"a\":", count: 1000)) }
    }

    @Test func truncatedInput() {
        #expect(throws: error(.unexpectedEnd)) { try read(#"{"alg":"HS256""#) }
        #expect(throws: error(.unexpectedEnd)) { try read(#"{"alg":"HS2"#) }
        #expect(throws: error(.unexpectedEnd)) { try read(#"{"exp":1"#) }
        #expect(throws: error(.unexpectedEnd)) { try read(#"{"x":tru"#) }
        #expect(throws: error(.unexpectedEnd)) { try read("{") }
    }

    @Test func emptyInput() {
        #expect(throws: error(.unexpectedEnd)) { try read("") }
        #expect(throws: error(.unexpectedEnd)) { try read(" \n") }
    }

    @Test func syntaxErrors() {
        #expect(throws: error(.syntax)) { try read(#"{"a":1,}"#) }
        #expect(throws: error(.syntax)) { try read(#"{a:1}"#) }
        #expect(throws: error(.syntax)) { try read(#"{"a" 1}"#) }
        #expect(throws: error(.syntax)) { try read(#"{"a":[1,]}"#) }
        #expect(throws: error(.syntax)) { try read(#"{"x":trux}"#) }
    }

    @Test func overLongInput() {
        let padding = String(repeating: "a", count: JSONObjectReader.maxInputLength)
        #expect(throws: error(.tooLong)) { try read(#"{"x":"\#(padding)"}"#) }
    }

    @Test func tooManyMembers() throws {
        func object(members: Int) -> String {
            "{" + (0..<members).map { #""m\#($0)":0"# }.joined(separator: ",") + "}"
        }
        #expect(try read(object(members: JSONObjectReader.maxMembers)) == JWTJSONFields())
        #expect(throws: error(.tooManyMembers)) { try read(object(members: JSONObjectReader.maxMembers + 1)) }
    }

    @Test func descriptionNeverEchoesValues() {
        do {
            _ = try read(#"{"exp":"secret-value"}"#)
            Issue.record("accepted a string exp")
        } catch {
            #expect(!error.description.contains("secret"))
            #expect(error.description.contains("exp"))
        }
    }
}
