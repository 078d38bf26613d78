import JWTKit
import Logging

/// Verifies the site's user token on every `POST /v1/token`. Never trusts, never caches.
///
/// Shared-secret tokens (the common case) are verified synchronously on the calling thread, so the event loop
/// answers without a hop. Public-key tokens go through jwt-kit's `JWTKeyCollection`, an actor, via
/// ``verifyWithPublicKey(_:now:)``.
///
/// - Important: The header's `alg` is checked against the allow-list of the key it selects before any signature
///   check. jwt-kit 5 does not do this, so without it an `HS512` header over an `HS256` MAC, or an `RS256` header
///   over an HMAC, would reach a key that runs its own algorithm.
///
/// A class, immutable: the request path hands it to the closures that lend it the token's bytes, and each would
/// copy a value of this type, a retain and a release for each of its parts, where a reference costs one.
public final class CallerVerifier: Sendable {
    /// What the synchronous step decided.
    public enum Outcome: Sendable {
        case accepted(CallerIdentity)
        case rejected(CallerRejection)
        /// The token names a public-key algorithm: finish with ``CallerVerifier/verifyWithPublicKey(_:now:)``.
        case needsPublicKey(PendingPublicKeyToken)
    }

    /// A structurally valid token waiting for its public-key signature check.
    ///
    /// A class: it holds two decoded JSON objects and the token, several hundred bytes that every ``Outcome``
    /// (returned on every request, through several calls) would otherwise carry and copy.
    public final class PendingPublicKeyToken: Sendable {
        let token: [UInt8]
        let header: JWTJSONFields
        let claims: JWTJSONFields
        let verifierName: String
        /// The keys that selected it; nil when its `kid` is not among the fetched keys yet, and the asynchronous
        /// half must first ask the identity provider again.
        let keys: PublicCallerKeys?

        init(
            token: [UInt8],
            header: JWTJSONFields,
            claims: JWTJSONFields,
            verifierName: String,
            keys: PublicCallerKeys?
        ) {
            self.token = token
            self.header = header
            self.claims = claims
            self.verifierName = verifierName
            self.keys = keys
        }
    }

    /// Where public keys come from: fixed at startup (files), or fetched and refreshed from the identity provider.
    enum PublicKeySource: Sendable {
        case files(PublicCallerKeys)
        case fetched(CallerKeyStore)
    }

    private let hmac: HMACCallerKey?
    private let miroIDToken: (key: HMACCallerKey, clientID: String)?
    private let publicKeys: PublicKeySource?
    private let policy: ClaimsPolicy

    /// Keys in the JWKS file that were skipped, for a startup warning.
    public var skippedKeys: [String] {
        if case .files(let keys) = publicKeys { return keys.skipped }
        return []
    }

    /// The identity provider's key store, when keys are fetched: the server runs its refresh loop.
    public var keyStore: CallerKeyStore? {
        if case .fetched(let store) = publicKeys { return store }
        return nil
    }

    /// Builds the configured verifiers, reading key files. With a JWKS URL or discovery, `fetcher` is what fetches
    /// (the server's HTTPS client); nothing is fetched here, the store's ``CallerKeyStore/run()`` does.
    ///
    /// - Parameter keyStore: the store of a verifier this one replaces (a secret reload): kept, keys and refresh
    ///   loop with it, rather than a new one that would start with no keys.
    public static func make(
        settings: Settings,
        fetcher: (any CallerKeyFetcher)? = nil,
        keyStore: CallerKeyStore? = nil,
        keyMetrics: CallerKeyMetrics? = nil,
        logger: Logger = Logger(label: "tokenmint"),
        now: @escaping @Sendable () -> Double = UnixTime.now
    ) async throws -> CallerVerifier {
        let caller = settings.caller
        var publicKeys: PublicKeySource?
        if caller.fetchesKeys, let keyStore {
            publicKeys = .fetched(keyStore)
        } else if caller.fetchesKeys {
            guard let fetcher else {
                throw SettingsError("CALLER_JWT_JWKS_URL", "needs an HTTPS client, which this build did not provide")
            }
            let origin: CallerKeyStore.Origin =
                if let url = caller.jwksURL { .jwks(url) } else { .discovery(issuer: caller.issuer ?? "") }
            publicKeys = .fetched(
                CallerKeyStore(
                    origin: origin,
                    refreshSeconds: Double(caller.jwksRefreshSeconds),
                    fetcher: fetcher,
                    metrics: keyMetrics ?? CallerKeyMetrics(),
                    logger: logger,
                    now: now
                )
            )
        } else if caller.publicKeyFile != nil || caller.jwksFile != nil {
            publicKeys = .files(
                try await PublicCallerKeys.load(publicKeyFile: caller.publicKeyFile, jwksFile: caller.jwksFile)
            )
        }
        return CallerVerifier(
            hmac: caller.hmacSecret.map { HMACCallerKey(secret: $0) },
            miroIDToken: caller.acceptMiroIDToken
                ? (HMACCallerKey(secret: settings.clientSecret, only: [.hs256]), settings.clientID) : nil,
            publicKeys: publicKeys,
            policy: ClaimsPolicy(
                issuer: caller.issuer,
                audience: caller.audience,
                maxLifetimeSeconds: Double(caller.maxLifetimeSeconds),
                types: caller.types
            )
        )
    }

    private init(
        hmac: HMACCallerKey?,
        miroIDToken: (key: HMACCallerKey, clientID: String)?,
        publicKeys: PublicKeySource?,
        policy: ClaimsPolicy
    ) {
        self.hmac = hmac
        self.miroIDToken = miroIDToken
        self.publicKeys = publicKeys
        self.policy = policy
    }

    /// Checks an `Authorization` header value at Unix time `now`.
    ///
    /// The token is verified where it lies, in the header value's UTF-8: only a public-key token, which outlives
    /// this call, is copied.
    public func verify(authorization: String?, now: Double) -> Outcome {
        guard var authorization, !authorization.isEmpty else { return .rejected(.missing) }
        return authorization.withUTF8 { bytes in
            guard let start = Self.bearerTokenStart(bytes) else { return .rejected(.notBearer) }
            return verify(token: UnsafeBufferPointer(rebasing: bytes[start...]), now: now)
        }
    }

    func verify(token: [UInt8], now: Double) -> Outcome {
        token.withUnsafeBufferPointer { verify(token: $0, now: now) }
    }

    func verify(token: UnsafeBufferPointer<UInt8>, now: Double) -> Outcome {
        guard let parts = CompactJWS(token) else { return .rejected(.malformed) }
        return parts.withDecodedSegments(of: token) { segments in
            verify(token: token, parts: parts, segments: segments, now: now)
        }
    }

    private func verify(
        token: UnsafeBufferPointer<UInt8>,
        parts: CompactJWS,
        segments: CompactJWS.Segments,
        now: Double
    ) -> Outcome {
        var header = JWTJSONFields()
        guard let headerBytes = segments.header, (try? JSONObjectReader.read(headerBytes, into: &header)) != nil,
            let alg = header.alg
        else { return .rejected(.badHeader) }
        if header.hasCrit { return .rejected(.crit) }
        var claims = JWTJSONFields()
        guard let payload = segments.payload, (try? JSONObjectReader.read(payload, into: &claims)) != nil else {
            return .rejected(.badClaims)
        }

        if alg.utf8.starts(with: "HS".utf8) {
            return verifyHMAC(
                signingInput: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: token[parts.signingInput])),
                signature: segments.signature,
                alg: alg,
                header: header,
                claims: claims,
                now: now
            )
        }
        guard let publicKeys else { return .rejected(Self.unsupported(alg)) }
        guard segments.signature != nil else { return .rejected(.malformed) }
        let keys: PublicCallerKeys
        switch publicKeys {
        case .files(let fixed): keys = fixed
        case .fetched(let store):
            guard let current = store.current else { return .rejected(.keysUnavailable) }
            keys = current
        }
        let allowed: String
        let name: String
        if let kid = header.kid, let entry = keys.entry(kid: kid) {
            (allowed, name) = (entry.algorithm, "jwks")
        } else if let algorithm = keys.defaultAlgorithm {
            // A kid the JWKS does not name falls to the PEM key, as jwt-kit's key collection picks it: identity
            // providers put a kid in every token, and a site that configured one PEM key need not know it.
            (allowed, name) = (algorithm, "public-key")
        } else if header.kid != nil, case .fetched = publicKeys, PublicCallerKeys.supported.contains(alg) {
            // Perhaps a key the provider has just rotated in: the asynchronous half asks it again, once.
            return .needsPublicKey(
                PendingPublicKeyToken(
                    token: Array(token),
                    header: header,
                    claims: claims,
                    verifierName: "jwks",
                    keys: nil
                )
            )
        } else {
            return .rejected(header.kid == nil ? Self.unsupported(alg) : .unknownKey)
        }
        guard CodePoints.equal(alg, allowed) else { return .rejected(Self.unsupported(alg)) }
        return .needsPublicKey(
            PendingPublicKeyToken(token: Array(token), header: header, claims: claims, verifierName: name, keys: keys)
        )
    }

    /// - Parameter signature: the decoded signature; nil when it was not canonical base64url, which is refused only
    ///   once the algorithm is known to be one a shared secret answers to.
    private func verifyHMAC(
        signingInput input: UnsafeRawBufferPointer,
        signature: UnsafeBufferPointer<UInt8>?,
        alg: String,
        header: JWTJSONFields,
        claims: JWTJSONFields,
        now: Double
    ) -> Outcome {
        let callerAlgorithm = hmac?.algorithm(named: alg)
        let miroAlgorithm = miroIDToken?.key.algorithm(named: alg)
        guard callerAlgorithm != nil || miroAlgorithm != nil else { return .rejected(Self.unsupported(alg)) }
        guard let signature = signature.map(UnsafeRawBufferPointer.init) else { return .rejected(.malformed) }

        if let hmac, let callerAlgorithm, hmac.isValid(signature: signature, over: input, algorithm: callerAlgorithm) {
            if let problem = policy.check(claims, header: header, now: now) { return .rejected(problem) }
            return .accepted(CallerIdentity(subject: claims.sub, verifier: "hmac"))
        }
        if let miroIDToken, let miroAlgorithm,
            miroIDToken.key.isValid(signature: signature, over: input, algorithm: miroAlgorithm)
        {
            // A Miro id token is signed with the client secret, like the tokens we mint: only iss "miro" with our
            // client ID as sub tells them apart, so a token we issued can never come back as a caller token.
            guard CodePoints.equal(claims.iss, "miro"), CodePoints.equal(claims.sub, miroIDToken.clientID) else {
                return .rejected(.miroIDToken)
            }
            // The site's issuer, audience and typ rules are for the site's tokens; the lifetime bound is for all.
            let miroPolicy = ClaimsPolicy(maxLifetimeSeconds: policy.maxLifetimeSeconds)
            if let problem = miroPolicy.check(claims, header: header, now: now) { return .rejected(problem) }
            // Its sub is our own client ID: the caller is the Miro user (and team) named in it.
            return .accepted(CallerIdentity(subject: claims.user, verifier: "miro-id-token", team: claims.team))
        }
        return .rejected(.signature)
    }

    /// The asynchronous half for RS256/ES256/EdDSA tokens.
    ///
    /// A `kid` the fetched keys lack waits, bounded, for one refetch from the identity provider (single flight, at
    /// most one per ``CallerKeyRefreshStateMachine/unknownKIDInterval``): the first token signed with a freshly
    /// rotated key then passes. A `kid` still absent afterwards is refused.
    public func verifyWithPublicKey(
        _ pending: PendingPublicKeyToken,
        now: Double
    ) async -> Result<
        CallerIdentity, CallerRejection
    > {
        guard let publicKeys else { return .failure(.signature) }
        let keys: PublicCallerKeys
        if let selected = pending.keys {
            keys = selected
        } else {
            guard case .fetched(let store) = publicKeys, let kid = pending.header.kid,
                let refreshed = await store.keysAfterRefetch(forUnknownKID: kid),
                let entry = refreshed.entry(kid: kid)
            else { return .failure(.unknownKey) }
            guard CodePoints.equal(pending.header.alg, entry.algorithm) else {
                return .failure(Self.unsupported(pending.header.alg ?? "?"))
            }
            keys = refreshed
        }
        do {
            _ = try await keys.collection.verify(pending.token, as: UncheckedClaims.self)
        } catch {
            return .failure(.signature)
        }
        if let problem = policy.check(pending.claims, header: pending.header, now: now) { return .failure(problem) }
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
