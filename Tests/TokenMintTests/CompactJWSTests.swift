import Testing

@testable import TokenMint

/// The byte scans every caller token goes through: its dots (``CompactJWS``), the characters base64url lacks
/// (``Base64URL``), both with ``ByteSearch``.
@Suite struct CompactJWSTests {
    func parts(_ token: String) -> (Range<Int>, Range<Int>, Range<Int>)? {
        Array(token.utf8).withUnsafeBufferPointer { CompactJWS($0).map { ($0.header, $0.payload, $0.signature) } }
    }

    @Test func threeNonEmptySegmentsAndNothingElse() throws {
        let (header, payload, signature) = try #require(parts("ab.cde.f"))
        #expect(header == 0..<2)
        #expect(payload == 3..<6)
        #expect(signature == 7..<8)
        for refused in ["", ".", "..", "abc", "a.b", "a.b.c.d", "a.b.c.d.e", ".b.c", "a..c", "a.b.", "a.b.c."] {
            #expect(parts(refused) == nil, "\(refused)")
        }
    }

    @Test func paddingAndTheStandardAlphabetAreRefusedWherever() {
        #expect(Base64URL.decode(Array("QUFB".utf8)) == [0x41, 0x41, 0x41])
        #expect(Base64URL.decode(Array("-_-_".utf8)) == [0xFB, 0xFF, 0xBF])
        for bad in ["=", "+", "/"] {
            for spelling in ["\(bad)UFB", "Q\(bad)FB", "QU\(bad)B", "QUF\(bad)", "QUFBQUFBQUFBQUFB\(bad)UFB"] {
                #expect(Base64URL.decode(Array(spelling.utf8)) == nil, "\(spelling)")
            }
        }
    }

    @Test func byteSearchFromAnOffset() {
        let bytes = Array("a.b.c".utf8)
        bytes.withUnsafeBufferPointer { buffer in
            let dot = UInt8(ascii: ".")
            #expect(ByteSearch.firstIndex(of: dot, in: buffer) == 1)
            #expect(ByteSearch.firstIndex(of: dot, in: buffer, from: 1) == 1)
            #expect(ByteSearch.firstIndex(of: dot, in: buffer, from: 2) == 3)
            #expect(ByteSearch.firstIndex(of: dot, in: buffer, from: 4) == nil)
            #expect(ByteSearch.firstIndex(of: dot, in: buffer, from: 5) == nil, "past the end")
            #expect(ByteSearch.contains(UInt8(ascii: "c"), in: buffer))
            #expect(!ByteSearch.contains(UInt8(ascii: "d"), in: buffer))
        }
        [UInt8]().withUnsafeBufferPointer { #expect(ByteSearch.firstIndex(of: 0, in: $0) == nil) }
    }
}
