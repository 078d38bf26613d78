import ExtrasBase64

/// base64url without padding (RFC 7515 §2), the only encoding a compact JWS uses; a thin name over ExtrasBase64.
enum Base64URL {
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        Base64.encodeToString(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }

    /// - Returns: nil for anything that is not canonical unpadded base64url.
    static func decode(_ bytes: some Collection<UInt8>) -> [UInt8]? {
        // A padded or standard-alphabet segment is not a JWS segment; ExtrasBase64 would accept some of them.
        if bytes.contains(where: { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "/") }) {
            return nil
        }
        return try? Base64.decode(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }
}
