/// A caller whose token verified: what the audit log line records.
public struct CallerIdentity: Sendable, Equatable {
    /// The token's `sub`, when it has one.
    public let subject: String?
    /// Which verifier accepted it (`hmac`, `public-key`, `jwks`, `miro-id-token`).
    public let verifier: String

    public init(subject: String?, verifier: String) {
        self.subject = subject
        self.verifier = verifier
    }
}
