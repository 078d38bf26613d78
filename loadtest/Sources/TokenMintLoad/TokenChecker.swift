import Crypto
import ExtrasBase64
import Foundation
import NIOCore

/// Checks each token served to a good caller: HS256 with the client secret (when known), the right `iss`, enough
/// life left. A full check runs once per distinct token; every later answer is compared byte for byte with the last
/// token that passed and only its remaining life is re-checked, so checking every answer stays cheap.
struct TokenChecker {
    let checks: TokenChecks
    private let key: SymmetricKey?
    private var lastGood: ByteBuffer?
    private var lastGoodExpiry = 0

    init(checks: TokenChecks) {
        self.checks = checks
        key = checks.clientSecret.map { SymmetricKey(data: $0) }
    }

    /// `nil` if the token is fine; records a token seen for the first time in `distinct`.
    mutating func check(_ body: ByteBuffer, now: Int, distinct: inout Set<String>) -> Failure? {
        if let lastGood, lastGood == body {
            return remainingLifeFailure(expiry: lastGoodExpiry, now: now)
        }
        let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        distinct.insert(text)
        switch inspect(text) {
        case .invalid(let failure):
            return failure
        case .valid(let expiry):
            if let failure = remainingLifeFailure(expiry: expiry, now: now) { return failure }
            lastGood = body
            lastGoodExpiry = expiry
            return nil
        }
    }

    private func remainingLifeFailure(expiry: Int, now: Int) -> Failure? {
        // One second of slack: the server checked at its "now", the answer took a moment to arrive.
        expiry - now >= checks.minimumRemainingSeconds - 1 ? nil : .tokenTooShortLived
    }

    private enum Inspection {
        case valid(expiry: Int)
        case invalid(Failure)
    }

    /// The token's `exp` if it is well formed, HS256, signed with the client secret and issued by the client ID.
    private func inspect(_ token: String) -> Inspection {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            let headerBytes = decode(parts[0]), let payloadBytes = decode(parts[1]), let signature = decode(parts[2]),
            let header = (try? JSONSerialization.jsonObject(with: Data(headerBytes))) as? [String: Any],
            let claims = (try? JSONSerialization.jsonObject(with: Data(payloadBytes))) as? [String: Any],
            header["alg"] as? String == "HS256",
            let expiry = claims["exp"] as? Int
        else { return .invalid(.tokenMalformed) }
        if let key {
            let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
            guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key) else {
                return .invalid(.tokenSignatureInvalid)
            }
        }
        if let clientID = checks.clientID, claims["iss"] as? String != clientID { return .invalid(.tokenWrongIssuer) }
        return .valid(expiry: expiry)
    }

    private func decode(_ part: Substring) -> [UInt8]? {
        try? Base64.decode(bytes: part.utf8, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }
}
