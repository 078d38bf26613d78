import JWTKit

/// Verifies the site's user token on every `POST /v1/token`. Never trusts, never caches.
///
/// Shared-secret tokens (the common case) are verified synchronously on the calling thread, so the event loop
/// answers without a hop. Public-key tokens go through jwt-kit's `JWTKeyCollection`, an actor, via
/// ``verifyWithPublicKey(_:now:)``.
///
/// - Important: The header's `alg` is checked against the allow-list of the key it selects before any signature
///   check. jwt-kit 5 does not do this, so without it an `HS512` header over an `HS256` MAC, or an `RS256` header
///   over an HMAC, would reach a key that runs its own algorithm.
public struct CallerVerifier: Sendable {
    /// What the synchronous step decided.
    public enum Outcome: Sendable {
        case accepted(CallerIdentity)
        case rejected(CallerRejection)
        /// The token names a public-key algorithm: finish with ``CallerVerifier/verifyWithPublicKey(_:now:)``.
        case needsPublicKey(PendingPublicKeyToken)
    }

    /// A structurally valid token waiting for its public-key signature check.
    public struct PendingPublicKeyToken: Sendable {
        let token: [UInt8]
        let claims: JWTJSONFields
        let verifierName: String
    }

    private let hmac: HMACCallerKey?
    private let miroIDToken: (key: HMACCallerKey, clientID: String)?
    private let publicKeys: PublicCallerKeys?
    private let policy: ClaimsPolicy

    /// Keys in the JWKS file that were skipped, for a startup warning.
    public var skippedKeys: [String] { publicKeys?.skipped ?? [] }

    /// Builds the configured verifiers, reading key files.
    public static func make(settings: Settings) async throws -> CallerVerifier {
        let caller = settings.caller
        var publicKeys: PublicCallerKeys?
        if caller.publicKeyFile != nil || caller.jwksFile != nil {
            publicKeys = try await PublicCallerKeys.load(publicKeyFile: caller.publicKeyFile, jwksFile: caller.jwksFile)
        }
        return CallerVerifier(
            hmac: caller.hmacSecret.map { HMACCallerKey(secret: $0) },
            miroIDToken: caller.acceptMiroIDToken
                ? (HMACCallerKey(secret: settings.clientSecret, only: [.hs256]), settings.clientID) : nil,
            publicKeys: publicKeys,
            policy: ClaimsPolicy(issuer: caller.issuer, audience: caller.audience)
        )
    }

    private init(
        hmac: HMACCallerKey?,
        miroIDToken: (key: HMACCallerKey, clientID: String)?,
        publicKeys: PublicCallerKeys?,
        policy: ClaimsPolicy
    ) {
        self.hmac = hmac
        self.miroIDToken = miroIDToken
        self.publicKeys = publicKeys
        self.policy = policy
    }

    /// Checks an `Authorization` header value at Unix time `now`.
    public func verify(authorization: String?, now: Double) -> Outcome {
        guard let authorization, !authorization.isEmpty else { return .rejected(.missing) }
        guard let token = Self.bearerToken(authorization) else { return .rejected(.notBearer) }
        return verify(token: token, now: now)
    }

    func verify(token: [UInt8], now: Double) -> Outcome {
        guard let parts = CompactJWS(token) else { return .rejected(.malformed) }
        guard let headerBytes = parts.decodedHeader, let header = try? JSONObjectReader.read(headerBytes),
            let alg = header.alg
        else { return .rejected(.badHeader) }
        if header.hasCrit { return .rejected(.crit) }
        guard let payload = parts.decodedPayload, let claims = try? JSONObjectReader.read(payload) else {
            return .rejected(.badClaims)
        }

        if alg.hasPrefix("HS") {
            return verifyHMAC(token: token, parts: parts, alg: alg, claims: claims, now: now)
        }
        guard let publicKeys else { return .rejected(Self.unsupported(alg)) }
        let allowed: String
        let name: String
        if let kid = header.kid, let algorithm = publicKeys.algorithmsByKID[kid] {
            (allowed, name) = (algorithm, "jwks")
        } else if let algorithm = publicKeys.defaultAlgorithm {
            // A kid the JWKS does not name falls to the PEM key, as jwt-kit's key collection picks it: identity
            // providers put a kid in every token, and a site that configured one PEM key need not know it.
            (allowed, name) = (algorithm, "public-key")
        } else {
            return .rejected(header.kid == nil ? Self.unsupported(alg) : .unknownKey)
        }
        guard alg == allowed else { return .rejected(Self.unsupported(alg)) }
        guard parts.decodedSignature != nil else { return .rejected(.malformed) }
        return .needsPublicKey(PendingPublicKeyToken(token: token, claims: claims, verifierName: name))
    }

    private func verifyHMAC(
        token: [UInt8],
        parts: CompactJWS,
        alg: String,
        claims: JWTJSONFields,
        now: Double
    ) -> Outcome {
        let callerAlgorithm = hmac?.algorithm(named: alg)
        let miroAlgorithm = miroIDToken?.key.algorithm(named: alg)
        guard callerAlgorithm != nil || miroAlgorithm != nil else { return .rejected(Self.unsupported(alg)) }
        guard let signature = parts.decodedSignature else { return .rejected(.malformed) }
        let input = parts.signingInput(of: token)

        if let hmac, let callerAlgorithm, hmac.isValid(signature: signature, over: input, algorithm: callerAlgorithm) {
            if let problem = policy.check(claims, now: now) { return .rejected(problem) }
            return .accepted(CallerIdentity(subject: claims.sub, verifier: "hmac"))
        }
        if let miroIDToken, let miroAlgorithm,
            miroIDToken.key.isValid(signature: signature, over: input, algorithm: miroAlgorithm)
        {
            // A Miro id token is signed with the client secret, like the tokens we mint: only iss "miro" with our
            // client ID as sub tells them apart, so a token we issued can never come back as a caller token.
            guard claims.iss == "miro", claims.sub == miroIDToken.clientID else { return .rejected(.miroIDToken) }
            if let problem = ClaimsPolicy().check(claims, now: now) { return .rejected(problem) }
            return .accepted(CallerIdentity(subject: claims.sub, verifier: "miro-id-token"))
        }
        return .rejected(.signature)
    }

    /// The asynchronous half for RS256/ES256/EdDSA tokens.
    public func verifyWithPublicKey(
        _ pending: PendingPublicKeyToken,
        now: Double
    ) async -> Result<
        CallerIdentity, CallerRejection
    > {
        guard let publicKeys else { return .failure(.signature) }
        do {
            _ = try await publicKeys.collection.verify(pending.token, as: UncheckedClaims.self)
        } catch {
            return .failure(.signature)
        }
        if let problem = policy.check(pending.claims, now: now) { return .failure(problem) }
        return .success(CallerIdentity(subject: pending.claims.sub, verifier: pending.verifierName))
    }

    /// This verifier's shared secret alone, for the grace period after it is rotated out; nil without one.
    var sharedSecretOnly: CallerVerifier? {
        hmac.map { CallerVerifier(hmac: $0, miroIDToken: nil, publicKeys: nil, policy: policy) }
    }

    static func unsupported(_ alg: String) -> CallerRejection {
        let shown = alg.count <= 16 && alg.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } ? alg : "?"
        return CallerRejection(.algorithm, "caller token alg \(shown) is not accepted for the key it selects")
    }
}
