/// The site's users as the driver plays them: how many, how their tokens are signed, how many callers are bad.
public struct CallerPlan: Sendable {
    /// How caller tokens are signed: the site's shared secret, or its private key (PEM: EC P-256, Ed25519 or RSA).
    public enum Signing: Sendable {
        case sharedSecret([UInt8], algorithm: HMACAlgorithm)
        case privateKeyPEM(String, keyID: String?)
    }

    public enum HMACAlgorithm: String, Sendable, CaseIterable {
        case hs256 = "HS256"
        case hs384 = "HS384"
        case hs512 = "HS512"
    }

    public var signing: Signing
    /// Distinct users, each with a token of its own: nothing on the server benefits from one repeated caller token.
    public var users: Int
    /// Lifetime of each caller token; the population is re-signed in the background before they expire.
    public var tokenLifetimeSeconds: Int
    /// Share of requests sent with a bad caller token (forged, expired, `alg: none`, malformed); each must get 401.
    public var badRatio: Double
    public var issuer: String?
    public var audience: String?

    public init(
        signing: Signing,
        users: Int = 10_000,
        tokenLifetimeSeconds: Int = 300,
        badRatio: Double = 0,
        issuer: String? = nil,
        audience: String? = nil
    ) {
        self.signing = signing
        self.users = users
        self.tokenLifetimeSeconds = tokenLifetimeSeconds
        self.badRatio = badRatio
        self.issuer = issuer
        self.audience = audience
    }
}

/// What every answer to a good caller is checked against.
public struct TokenChecks: Sendable {
    /// The client secret: with it, every token's HS256 signature is verified.
    public var clientSecret: [UInt8]?
    /// The client ID every token's `iss` must equal, when given.
    public var clientID: String?
    /// A served token must have at least this much life left (the server's `TOKEN_MIN_REMAINING_SECONDS`), less one
    /// second for the answer's time in flight.
    public var minimumRemainingSeconds: Int

    public init(clientSecret: [UInt8]? = nil, clientID: String? = nil, minimumRemainingSeconds: Int = 60) {
        self.clientSecret = clientSecret
        self.clientID = clientID
        self.minimumRemainingSeconds = minimumRemainingSeconds
    }
}
