/// A second base64url codec, written from RFC 4648 §5 and RFC 7515 §2 independently of `Base64URL` (and of
/// ExtrasBase64 under it), to check it against: no padding, no other alphabet, no length that is 1 modulo 4, and
/// canonical only (the bits a final partial group leaves over must be zero, so each byte string has one spelling).
enum ReferenceBase64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var group: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { group |= UInt32(byte) << (16 - 8 * offset) }
            for position in 0...chunk.count { out.append(alphabet[Int(group >> (18 - 6 * position) & 0x3F)]) }
            index += 3
        }
        return out
    }

    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var values: [UInt32] = []
        for character in text {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            values.append(UInt32(value))
        }
        var out: [UInt8] = []
        var index = 0
        while index < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            var group: UInt32 = 0
            for (offset, value) in chunk.enumerated() { group |= value << (18 - 6 * offset) }
            let byteCount = chunk.count - 1
            // The bits below the last whole byte must be zero.
            guard group & ((1 << (24 - 8 * byteCount)) - 1) == 0 else { return nil }
            for position in 0..<byteCount { out.append(UInt8(group >> (16 - 8 * position) & 0xFF)) }
            index += 4
        }
        return out
    }
}
