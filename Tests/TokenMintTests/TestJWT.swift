import Crypto
import Foundation
import TokenMint
import TokenMintTesting

/// Builds JWTs byte by byte, independently of the code under test, so a test can forge exactly the token it needs.
enum TestJWT {
    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: some StringProtocol) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    enum MAC { case hs256, hs384, hs512 }

    static func hmac(header: String, claims: String, secret: String, mac: MAC = .hs256) -> String {
        let input = base64URL(Array(header.utf8)) + "." + base64URL(Array(claims.utf8))
        let key = SymmetricKey(data: Array(secret.utf8))
        let signature: [UInt8]
        switch mac {
        case .hs256: signature = Array(HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: key))
        case .hs384: signature = Array(HMAC<SHA384>.authenticationCode(for: Array(input.utf8), using: key))
        case .hs512: signature = Array(HMAC<SHA512>.authenticationCode(for: Array(input.utf8), using: key))
        }
        return input + "." + base64URL(signature)
    }

    static func unsigned(header: String, claims: String, signature: String) -> String {
        base64URL(Array(header.utf8)) + "." + base64URL(Array(claims.utf8)) + "." + signature
    }

    static func claims(
        sub: String = "user-1",
        exp: Double? = nil,
        nbf: Double? = nil,
        iss: String? = nil,
        aud: String? = nil,
        now: Double = Date().timeIntervalSince1970
    ) -> String {
        var members = [#""sub":"\#(sub)""#]
        members.append(#""exp":\#(Int(exp ?? now + 600))"#)
        if let nbf { members.append(#""nbf":\#(Int(nbf))"#) }
        if let iss { members.append(#""iss":"\#(iss)""#) }
        if let aud { members.append(#""aud":"\#(aud)""#) }
        return "{" + members.joined(separator: ",") + "}"
    }
}

enum Fixtures {
    static let clientID = TestSecrets.clientID
    static let clientSecret = TestSecrets.clientSecret
    static let callerSecret = TestSecrets.callerSecret
    static let longCallerSecret = TestSecrets.longCallerSecret

    static func settings(caller: CallerSettings = CallerSettings(hmacSecret: Secret(callerSecret))) -> Settings {
        Settings(clientID: clientID, clientSecret: Secret(clientSecret), caller: caller)
    }
}
