import Foundation

/// A disagreement between tokenmint's code and its oracle.
///
/// It aborts, so that libFuzzer stores the input as a crash artifact and the CI run fails; the message says which
/// rule broke and shows the input with every byte outside printable ASCII escaped, ready to paste into a unit test.
enum Finding {
    static func report(_ rule: String, input: [UInt8]) -> Never {
        FileHandle.standardError.write(Data("FINDING: \(rule)\ninput: \(escaped(input))\n".utf8))
        abort()
    }

    static func escaped(_ bytes: [UInt8]) -> String {
        var shown = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): shown += "\\\""
            case UInt8(ascii: "\\"): shown += "\\\\"
            case 0x20..<0x7F: shown.unicodeScalars.append(Unicode.Scalar(byte))
            default: shown += String(format: "\\x%02X", byte)
            }
        }
        return shown + "\""
    }
}
