import Testing

@testable import TokenMint

/// The one hex, JSON-string and RFC 3339 helper each: what every caller (fingerprints, problem bodies, log lines,
/// `expiresAt`) relies on.
@Suite struct TextEncodingTests {
    @Test func hexIsLowercaseTwoDigitsPerByteMostSignificantFirst() {
        #expect(Hex.encode([0x00, 0x0F, 0xA5, 0xFF]) == "000fa5ff")
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.encode(UInt64(0x0123_4567_89AB_CDEF)) == "0123456789abcdef")
        #expect(Hex.encode(UInt64(1)) == "0000000000000001")
    }

    @Test func fingerprintIsTheFirstFourBytesOfSHA256InHex() {
        // SHA-256("abc") = ba7816bf 8f01cfea ...
        #expect(Fingerprint.of("abc".utf8) == "ba7816bf")
    }

    @Test func jsonStringsEscapeQuotesBackslashesAndControlsOnly() {
        #expect(JSONString.quoted("plain") == #""plain""#)
        #expect(JSONString.quoted("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONString.quoted("\n\r\t\u{0}\u{1F}") == #""\n\r\t\u0000\u001f""#)
        #expect(JSONString.quoted("café \u{2028}") == "\"café \u{2028}\"", "non-ASCII is copied as UTF-8")
        var bytes: [UInt8] = Array("x=".utf8)
        JSONString.appendQuoted("\u{7F}y", to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "x=\"\u{7F}y\"")
    }

    @Test func rfc3339IsUTCWithWholeSecondsOrMilliseconds() {
        #expect(RFC3339.string(0) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.string(1_795_426_860) == "2026-11-23T09:41:00Z")
        var bytes: [UInt8] = []
        RFC3339.append(seconds: 951_782_400, milliseconds: 7, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "2000-02-29T00:00:00.007Z")
    }
}
