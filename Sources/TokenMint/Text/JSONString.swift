/// JSON string literals for the values tokenmint writes by hand (claims, problem bodies, log lines).
///
/// Hand-written JSON keeps minted claims byte-identical on every replica and keeps Foundation off the hot path;
/// this is the one place that knows JSON's string escapes. Only `"`, `\` and the C0 controls are escaped (RFC 8259
/// §7 requires no more); every other scalar, non-ASCII included, is copied as its UTF-8 bytes.
public enum JSONString {
    /// `value` as a quoted JSON string.
    public static func quoted(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 2)
        appendQuoted(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `value` as a quoted JSON string; a string that needs no escape is copied whole.
    public static func appendQuoted(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            if !bytes.contains(where: needsEscape) {
                out.append(contentsOf: bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
                case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
                case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
                case 0..<0x20:
                    out.append(contentsOf: #"\u00"#.utf8)
                    Hex.append(byte, to: &out)
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }
}
