import Crypto
import Foundation
import ExtrasBase64
import JWTKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The signed caller tokens of one generation: one per user, plus a set of bad ones. Immutable; a new generation
/// replaces it before its tokens expire.
public struct CallerSnapshot: Sendable {
    public let generation: Int
    /// `Bearer <jwt>` for each user.
    public let goodAuthorizations: [String]
    /// `Bearer <something the server must refuse>`.
    public let badAuthorizations: [String]
    /// When the tokens of this generation expire (Unix seconds).
    public let expiresAt: Int
}

/// Signs the site's callers and re-signs them in the background at half their lifetime, so the run never sends an
/// expired good caller token and never pays for signing on an event loop. Event loops read ``current`` rarely (on
/// their housekeeping tick) and keep their own reference in between.
public final class CallerPopulation: Sendable {
    private let plan: CallerPlan
    private let keys: JWTKeyCollection
    private let state: Mutex<CallerSnapshot>
    private let renewal = Mutex<Task<Void, Never>?>(nil)

    /// The newest generation.
    public var current: CallerSnapshot { state.withLock { $0 } }

    /// Signs the first generation before returning.
    public init(plan: CallerPlan) async throws {
        self.plan = plan
        keys = try await Self.keyCollection(for: plan.signing)
        let first = try await Self.sign(plan: plan, keys: keys, generation: 1)
        state = Mutex(first)
    }

    /// Starts re-signing in the background; ``stop()`` ends it.
    public func startRenewing() {
        let interval = Double(plan.tokenLifetimeSeconds) / 2
        let task = Task { [self] in
            var generation = 1
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                if Task.isCancelled { return }
                generation += 1
                // A failure keeps the old generation, which still has half its life.
                if let next = try? await Self.sign(plan: plan, keys: keys, generation: generation) {
                    state.withLock { $0 = next }
                }
            }
        }
        renewal.withLock { $0 = task }
    }

    public func stop() {
        renewal.withLock { $0?.cancel() }
    }

    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var iat: IssuedAtClaim
        var exp: ExpirationClaim
        var iss: IssuerClaim?
        var aud: AudienceClaim?

        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    private static func keyCollection(for signing: CallerPlan.Signing) async throws -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        switch signing {
        case .sharedSecret(let secret, let algorithm):
            let digest: DigestAlgorithm =
                switch algorithm {
                case .hs256: .sha256
                case .hs384: .sha384
                case .hs512: .sha512
                }
            await keys.add(hmac: HMACKey(key: SymmetricKey(data: secret)), digestAlgorithm: digest)
        case .privateKeyPEM(let pem, let keyID):
            let kid = keyID.map { JWKIdentifier(string: $0) }
            if let key = try? ES256PrivateKey(pem: pem) {
                await keys.add(ecdsa: key, kid: kid)
            } else if let key = try? EdDSA.PrivateKey(pem: pem) {
                await keys.add(eddsa: key, kid: kid)
            } else if let key = try? Insecure.RSA.PrivateKey(pem: pem) {
                await keys.add(rsa: key, digestAlgorithm: .sha256, kid: kid)
            } else {
                throw LoadError(
                    "--caller-key: not a PEM private key of a kind the driver signs with (EC P-256, Ed25519, RSA)"
                )
            }
        }
        return keys
    }

    /// Signs every user's token, in parallel chunks (an RSA population of 10,000 takes seconds on one core).
    private static func sign(plan: CallerPlan, keys: JWTKeyCollection, generation: Int) async throws -> CallerSnapshot {
        let now = Int(time(nil))
        let expiresAt = now + plan.tokenLifetimeSeconds
        func claims(user: String, issuedAt: Int, expiresAt: Int) -> Claims {
            Claims(
                sub: SubjectClaim(value: user),
                iat: IssuedAtClaim(value: Date(timeIntervalSince1970: Double(issuedAt))),
                exp: ExpirationClaim(value: Date(timeIntervalSince1970: Double(expiresAt))),
                iss: plan.issuer.map { IssuerClaim(value: $0) },
                aud: plan.audience.map { AudienceClaim(value: [$0]) }
            )
        }
        // A key added with a kid is not used by jwt-kit's sign unless the kid is named: without it the header would
        // carry no kid, and a JWKS-configured server could not select the key.
        var signingKID: JWKIdentifier?
        if case .privateKeyPEM(_, let keyID) = plan.signing { signingKID = keyID.map { JWKIdentifier(string: $0) } }
        let kid = signingKID
        let chunk = 1_000
        let good = try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for start in stride(from: 0, to: plan.users, by: chunk) {
                group.addTask {
                    var tokens: [String] = []
                    tokens.reserveCapacity(chunk)
                    for user in start..<min(start + chunk, plan.users) {
                        let token = try await keys.sign(
                            claims(user: "load-user-\(user)", issuedAt: now, expiresAt: expiresAt),
                            kid: kid
                        )
                        tokens.append("Bearer " + token)
                    }
                    return (start, tokens)
                }
            }
            var parts: [(Int, [String])] = []
            for try await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }

        // The bad callers a real site sees: a token from somewhere else, a stale one, a downgrade attempt, junk.
        let stranger = JWTKeyCollection()
        await stranger.add(hmac: HMACKey(key: SymmetricKey(size: .bits256)), digestAlgorithm: .sha256)
        var bad: [String] = []
        for index in 0..<64 {
            let user = "bad-user-\(index)"
            bad.append("Bearer " + (try await stranger.sign(claims(user: user, issuedAt: now, expiresAt: expiresAt))))
            bad.append(
                "Bearer "
                    + (try await keys.sign(claims(user: user, issuedAt: now - 7_200, expiresAt: now - 3_600), kid: kid))
            )
            let header = base64URL(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
            let payload = base64URL(Array(#"{"sub":"\#(user)","exp":\#(expiresAt)}"#.utf8))
            bad.append("Bearer \(header).\(payload).")
            bad.append("Bearer not-a-jwt-\(index)")
        }
        return CallerSnapshot(
            generation: generation,
            goodAuthorizations: good,
            badAuthorizations: bad,
            expiresAt: expiresAt
        )
    }
}

func base64URL(_ bytes: [UInt8]) -> String {
    Base64.encodeToString(bytes: bytes, options: [.base64UrlAlphabet, .omitPaddingCharacter])
}
