import Crypto
import Foundation

/// Independent JWT helpers for tests: Foundation base64 and swift-crypto, not the code under test, so a test can
/// forge exactly the token it needs and decode what the server answered without trusting tokenmint's own code.
public enum JWTText {
    public static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ segment: some StringProtocol) -> Data? {
        var base64 = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    /// The claims of a compact JWS, unverified.
    public static func claims(_ token: String) -> [String: Any]? {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let data = decode(parts[1]) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// An HMAC-signed compact JWS over exactly this header and these claims (SHA-256 unless `sha512`).
    public static func sign(header: String, claims: String, secret: String, sha512: Bool = false) -> String {
        let input = base64URL(Array(header.utf8)) + "." + base64URL(Array(claims.utf8))
        let key = SymmetricKey(data: Array(secret.utf8))
        let mac: [UInt8] =
            sha512
            ? Array(HMAC<SHA512>.authenticationCode(for: Array(input.utf8), using: key))
            : Array(HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: key))
        return input + "." + base64URL(mac)
    }
}

extension JWTText {
    /// tokenmint's fingerprint of a secret (first 8 hex digits of its SHA-256), computed independently: the middle
    /// part of the Redis keys.
    public static func fingerprint(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).prefix(4).map { byte in
            let hex = Array("0123456789abcdef")
            return String([hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
        }.joined()
    }

    /// Whether `token` is an HS256 JWS whose MAC verifies with `secret`.
    public static func verifies(_ token: String, secret: String) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return false }
        let input = Array("\(parts[0]).\(parts[1])".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: Array(secret.utf8)))
        return base64URL(mac) == parts[2]
    }
}
