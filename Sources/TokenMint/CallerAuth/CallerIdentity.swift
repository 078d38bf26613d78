/// A caller whose token verified: what the audit log line records.
public struct CallerIdentity: Sendable, Equatable {
    /// The token's `sub`, when it has one; for a Miro id token, the Miro user (its `sub` is our own client ID).
    public let subject: String?
    /// Which verifier accepted it (`hmac`, `public-key`, `jwks`, `miro-id-token`).
    public let verifier: String
    /// The Miro team of a Miro id token.
    public let team: String?

    public init(subject: String?, verifier: String, team: String? = nil) {
        self.subject = subject
        self.verifier = verifier
        self.team = team
    }
}
