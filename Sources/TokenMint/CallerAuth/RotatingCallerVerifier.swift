/// The caller verifier in force and, while its grace lasts, the shared secret it replaced.
///
/// A site rotating `CALLER_JWT_HS256_SECRET` has visitors holding tokens signed with the old secret; refusing them
/// the moment the new one is mounted would turn them away until their site token is renewed. So a token whose MAC
/// fails with the current secret is tried once more with the previous one, until `previousUntil`; then only the
/// current one counts. Public keys and the Miro id token have no such grace: they are replaced whole.
///
/// A class, immutable: every request takes the one in force from ``CallerVerifierHolder``, and a reference is one
/// retain where a copy of the value would retain each of its parts.
public final class RotatingCallerVerifier: Sendable {
    public let current: CallerVerifier
    let previous: CallerVerifier?
    let previousUntil: Double

    public init(current: CallerVerifier, previous: CallerVerifier? = nil, previousUntil: Double = 0) {
        self.current = current
        self.previous = previous
        self.previousUntil = previousUntil
    }

    /// As ``CallerVerifier/verify(authorization:now:)``, with the previous secret's grace.
    public func verify(authorization: String?, now: Double) -> CallerVerifier.Outcome {
        let outcome = current.verify(authorization: authorization, now: now)
        guard case .rejected(let rejection) = outcome, rejection.kind == .signature, let previous,
            now < previousUntil
        else { return outcome }
        if case .accepted(let caller) = previous.verify(authorization: authorization, now: now) {
            return .accepted(CallerIdentity(subject: caller.subject, verifier: "hmac-previous"))
        }
        return outcome
    }

    /// The public-key half, always with the current keys.
    public func verifyWithPublicKey(
        _ pending: CallerVerifier.PendingPublicKeyToken,
        now: Double
    ) async -> Result<CallerIdentity, CallerRejection> {
        await current.verifyWithPublicKey(pending, now: now)
    }
}

/// The verifier every request reads; a reload replaces it whole, between two requests.
///
/// Each event loop reads through its own ``Reader``: one atomic load per request, and the lock only after a
/// replacement (a lock taken by every request from every core moves its cache line between the cores each time).
public final class CallerVerifierHolder: Sendable {
    private let state: VersionedValue<RotatingCallerVerifier>

    /// One thread's view of a holder (see ``VersionedValue/Reader``): the lock only after a replacement.
    public struct Reader {
        private var state = VersionedValue<RotatingCallerVerifier>.Reader()

        public init() {}

        /// As ``CallerVerifierHolder/current``.
        public mutating func current(from holder: CallerVerifierHolder) -> RotatingCallerVerifier {
            state.value(of: holder.state)
        }
    }

    public init(_ verifier: CallerVerifier) {
        state = VersionedValue(RotatingCallerVerifier(current: verifier))
    }

    /// The verifier for one request.
    public var current: RotatingCallerVerifier { state.value }

    /// The identity provider's key store of the verifier in force; nil when keys are not fetched.
    public var keyStore: CallerKeyStore? { current.current.keyStore }

    /// Puts `verifier` in force.
    ///
    /// - Parameter previousSecretPassesUntil: when the shared secret changed, the Unix time until which the one it
    ///   replaces still passes; nil keeps whatever grace an earlier rotation started.
    public func replace(with verifier: CallerVerifier, previousSecretPassesUntil: Double?) {
        state.update { rotating in
            if let until = previousSecretPassesUntil {
                rotating = RotatingCallerVerifier(
                    current: verifier,
                    previous: rotating.current.sharedSecretOnly,
                    previousUntil: until
                )
            } else {
                rotating = RotatingCallerVerifier(
                    current: verifier,
                    previous: rotating.previous,
                    previousUntil: rotating.previousUntil
                )
            }
            return ((), changed: true)
        }
    }
}
