/// What a reload changes, and so which parts of a running replica are rebuilt.
///
/// Only what files feed can change while running (the environment of a process is fixed): the client secret, the
/// caller secret, the caller key files, the CA bundles and the Redis password.
public struct SettingsChange: Sendable, Equatable {
    /// The next token is minted with the new secret at once, under the new secret's Redis key.
    public var clientSecret = false
    /// The new caller secret passes at once; the previous one keeps passing for the grace period.
    public var callerSecret = false
    /// The PEM or JWKS file changed: the caller's public keys are replaced whole.
    public var callerKeys = false
    /// `CALLER_JWT_CA_FILE` changed: the identity provider's fetches trust the new bundle from the next fetch.
    public var callerKeyTrust = false
    /// The Redis settings changed (a new password, new TLS files): used from the next connection.
    public var redis = false

    /// - Parameter changedFiles: the watched variables whose files changed (``WatchedFiles/changed(from:)``): key
    ///   and TLS files change their contents, not the settings, which hold only their paths.
    public init(from old: Settings, to new: Settings, changedFiles: Set<String>) {
        clientSecret = old.clientSecret != new.clientSecret
        callerSecret = old.caller.hmacSecret != new.caller.hmacSecret
        callerKeys = !changedFiles.isDisjoint(with: WatchedFiles.callerKeyVariables)
        callerKeyTrust = !changedFiles.isDisjoint(with: WatchedFiles.callerTrustVariables)
        redis = old.redis != new.redis || !changedFiles.isDisjoint(with: WatchedFiles.redisTLSVariables)
    }

    public init() {}

    /// Nothing to rebuild.
    public var isEmpty: Bool { !clientSecret && !callerSecret && !callerKeys && !callerKeyTrust && !redis }

    /// The caller verifier is rebuilt (the Miro id token path is keyed by the client secret).
    public var rebuildsVerifier: Bool { clientSecret || callerSecret || callerKeys }

    /// The token source is rebuilt: a new signer, Redis key or connection.
    public var rebuildsTokenSource: Bool { clientSecret || redis }

    /// The parts that changed, for the log line.
    public var names: [String] {
        var names: [String] = []
        if clientSecret { names.append("MIRO_CLIENT_SECRET") }
        if callerSecret { names.append("CALLER_JWT_HS256_SECRET") }
        if callerKeys { names.append("caller public keys") }
        if callerKeyTrust { names.append("identity provider CA") }
        if redis { names.append("Redis connection") }
        return names
    }
}
