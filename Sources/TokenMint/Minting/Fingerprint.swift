import Crypto

/// A short, one-way name for a secret or a token: the first 8 hex digits of its SHA-256.
///
/// Safe to log and to put in a Redis key; long enough to tell values apart, far too short to help recover one.
enum Fingerprint {
    static func of(_ bytes: some Sequence<UInt8>) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in SHA256.hash(data: Array(bytes)).prefix(4) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
