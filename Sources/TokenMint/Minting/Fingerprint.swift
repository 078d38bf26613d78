import Crypto

/// A short, one-way name for a secret or a token: the first 8 hex digits of its SHA-256.
///
/// Safe to log and to put in a Redis key; long enough to tell values apart, far too short to help recover one.
enum Fingerprint {
    static func of(_ bytes: some Sequence<UInt8>) -> String {
        Hex.encode(SHA256.hash(data: Array(bytes)).prefix(4))
    }
}
