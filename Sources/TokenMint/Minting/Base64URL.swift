import ExtrasBase64

/// base64url without padding (RFC 7515 §2), the only encoding a compact JWS uses; a thin name over ExtrasBase64.
enum Base64URL {
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        Base64.encodeToString(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }

    /// - Returns: nil for anything that is not canonical unpadded base64url.
    static func decode(_ bytes: some BidirectionalCollection<UInt8>) -> [UInt8]? {
        // A padded or standard-alphabet segment is not a JWS segment; ExtrasBase64 would accept some of them.
        if bytes.contains(where: { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "/") }) {
            return nil
        }
        guard let decoded = try? Base64.decode(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
        else { return nil }
        return hasZeroSpareBits(bytes) ? decoded : nil
    }

    /// RFC 4648 §3.5: the bits that a final group of 2 or 3 characters carries beyond its last whole byte (4 or 2)
    /// must be zero. ExtrasBase64 ignores them, so without this check each segment has 4 or 16 spellings that
    /// decode alike, and a token could be respelled (its signature included) and still verify.
    private static func hasZeroSpareBits(_ bytes: some BidirectionalCollection<UInt8>) -> Bool {
        guard let last = bytes.last, let value = sextet(last) else { return true }
        switch bytes.count % 4 {
        case 2: return value & 0x0F == 0
        case 3: return value & 0x03 == 0
        default: return true
        }
    }

    /// The 6-bit value of a base64url character.
    private static func sextet(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
