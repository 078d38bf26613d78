import ExtrasBase64

/// base64url without padding (RFC 7515 §2), the only encoding a compact JWS uses; a thin name over ExtrasBase64.
enum Base64URL {
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        Base64.encodeToString(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }

    /// How many bytes ``decode(_:into:)`` may write for `count` encoded characters.
    static func decodedCapacity(_ count: Int) -> Int { Base64.decodedLength(bytesCount: count) }

    /// - Returns: nil for anything that is not canonical unpadded base64url.
    static func decode(_ bytes: some Collection<UInt8>) -> [UInt8]? {
        let encoded = Array(bytes)
        return encoded.withUnsafeBufferPointer { encoded in
            var decoded: Int?
            let output = [UInt8](unsafeUninitializedCapacity: decodedCapacity(encoded.count)) { buffer, count in
                buffer.initialize(repeating: 0)
                decoded = decode(encoded, into: buffer)
                count = decoded ?? 0
            }
            return decoded == nil ? nil : output
        }
    }

    /// Decodes `bytes` into `output`, which must hold ``decodedCapacity(_:)`` initialized bytes.
    ///
    /// - Returns: the bytes written; nil for anything that is not canonical unpadded base64url.
    ///
    /// - Important: Canonical means one spelling per byte string. The last character of a segment whose length is
    ///   not a multiple of 4 carries 2 or 4 bits that encode nothing; a decoder that ignores them accepts 4 or 16
    ///   spellings of the same signature, so a token could be altered and still verify. Those bits must be zero,
    ///   as RFC 4648 §3.5 lets a decoder require.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        guard let last = bytes.last else { return 0 }
        // A padded or standard-alphabet segment is not a JWS segment; ExtrasBase64 would accept some of them.
        if ByteSearch.contains(UInt8(ascii: "="), in: bytes) || ByteSearch.contains(UInt8(ascii: "+"), in: bytes)
            || ByteSearch.contains(UInt8(ascii: "/"), in: bytes)
        {
            return nil
        }
        guard let value = sextet(last) else { return nil }
        switch bytes.count % 4 {
        case 1: return nil
        case 2: guard value & 0x0F == 0 else { return nil }
        case 3: guard value & 0x03 == 0 else { return nil }
        default: break
        }
        precondition(output.count >= decodedCapacity(bytes.count), "Base64URL.decode: output too small")
        var span = output.mutableSpan
        return try? Base64.decode(bytes: bytes.span, into: &span, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }

    /// The 6-bit value of a base64url character.
    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
