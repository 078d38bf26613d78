/// Lowercase hexadecimal: the one place that spells bytes as hex digits (fingerprints, script digests, request id
/// prefixes, generated secrets, `\u00XX` escapes).
public enum Hex {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Two lowercase digits per byte, most significant nibble first.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes { append(byte, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// All 16 digits of `value`, zero-padded, most significant first.
    public static func encode(_ value: UInt64) -> String {
        withUnsafeBytes(of: value.bigEndian) { encode($0) }
    }

    /// Appends the two lowercase digits of `byte`.
    @inline(__always)
    public static func append(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
}
