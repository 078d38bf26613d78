import Crypto
import Testing

@testable import TokenMint

/// ``PrekeyedHMAC`` (OpenSSL's SHA-2 contexts, keyed once) against swift-crypto's `HMAC`, for keys shorter than,
/// as long as and longer than the hash's block (a longer key is hashed first), and messages across block bounds.
@Suite struct PrekeyedHMACTests {
    static let keyLengths = [1, 32, 63, 64, 65, 127, 128, 129, 300]
    static let messageLengths = [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000]

    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    func check<F: SHA2Function, H: HashFunction>(_: F.Type, against _: H.Type) {
        for keyLength in Self.keyLengths {
            let key = Self.bytes(keyLength, seed: 7)
            let mine = key.withUnsafeBytes { PrekeyedHMAC<F>(key: $0) }
            for messageLength in Self.messageLengths {
                let message = Self.bytes(messageLength, seed: 3)
                let expected = Array(HMAC<H>.authenticationCode(for: message, using: SymmetricKey(data: key)))
                let actual = message.withUnsafeBytes { message in mine.withMAC(of: message) { Array($0) } }
                #expect(actual == expected, "key \(keyLength) bytes, message \(messageLength) bytes")
                var wrong = expected
                wrong[wrong.count - 1] ^= 1
                message.withUnsafeBytes { message in
                    expected.withUnsafeBytes { #expect(mine.isValid(signature: $0, over: message)) }
                    wrong.withUnsafeBytes { #expect(!mine.isValid(signature: $0, over: message)) }
                    Array(expected.dropLast()).withUnsafeBytes { #expect(!mine.isValid(signature: $0, over: message)) }
                }
            }
        }
    }

    @Test func sha256MatchesSwiftCrypto() { check(SHA256Function.self, against: SHA256.self) }
    @Test func sha384MatchesSwiftCrypto() { check(SHA384Function.self, against: SHA384.self) }
    @Test func sha512MatchesSwiftCrypto() { check(SHA512Function.self, against: SHA512.self) }
}
