/// What a reload changes, and so which parts of a running replica are rebuilt.
///
/// Only what files feed can change while running (the environment of a process is fixed): the client secret, the
/// caller secret, the caller key files and the Redis password.
public struct SettingsChange: Sendable, Equatable {
    /// The next token is minted with the new secret at once, under the new secret's Redis key.
    public var clientSecret = false
    /// The new caller secret passes at once; the previous one keeps passing for the grace period.
    public var callerSecret = false
    /// The PEM or JWKS file changed: the caller's public keys are replaced whole.
    public var callerKeys = false
    /// The Redis settings changed (a new password): used from the next connection.
    public var redis = false

    public init(from old: Settings, to new: Settings, callerKeysChanged: Bool) {
        clientSecret = old.clientSecret != new.clientSecret
        callerSecret = old.caller.hmacSecret != new.caller.hmacSecret
        callerKeys = callerKeysChanged
        redis = old.redis != new.redis
    }

    public init() {}

    /// Nothing to rebuild.
    public var isEmpty: Bool { !clientSecret && !callerSecret && !callerKeys && !redis }

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
        if redis { names.append("REDIS_PASSWORD") }
        return names
    }
}
