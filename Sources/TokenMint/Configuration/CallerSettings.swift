/// How the site's own user tokens are verified. At least one verifier must be configured.
public struct CallerSettings: Sendable {
    /// Shared secret for HS256/384/512 caller tokens.
    public var hmacSecret: Secret?
    /// A PEM public key (RSA, P-256 or Ed25519) for RS256/ES256/EdDSA caller tokens.
    public var publicKeyFile: String?
    /// A JWKS document whose keys are chosen by the token's `kid`.
    public var jwksFile: String?
    /// When set, a caller token's `iss` must equal it.
    public var issuer: String?
    /// When set, a caller token's `aud` must contain it.
    public var audience: String?
    /// Also accept Miro Web SDK id tokens (HS256 with the client secret, `iss` miro, `sub` the client ID).
    public var acceptMiroIDToken: Bool

    public init(
        hmacSecret: Secret? = nil,
        publicKeyFile: String? = nil,
        jwksFile: String? = nil,
        issuer: String? = nil,
        audience: String? = nil,
        acceptMiroIDToken: Bool = false
    ) {
        self.hmacSecret = hmacSecret
        self.publicKeyFile = publicKeyFile
        self.jwksFile = jwksFile
        self.issuer = issuer
        self.audience = audience
        self.acceptMiroIDToken = acceptMiroIDToken
    }

    init(values: SettingsReader) throws {
        self.init(
            hmacSecret: values.secret("caller.jwt.hs256.secret"),
            publicKeyFile: values.string("caller.jwt.public.key.file"),
            jwksFile: values.string("caller.jwt.jwks.file"),
            issuer: values.string("caller.jwt.issuer"),
            audience: values.string("caller.jwt.audience"),
            acceptMiroIDToken: try values.flag("caller.accept.miro.id.token", default: false)
        )
    }

    func validate(clientSecret: Secret) throws {
        if hmacSecret == nil, publicKeyFile == nil, jwksFile == nil, !acceptMiroIDToken {
            throw SettingsError(
                "CALLER_JWT_HS256_SECRET",
                "no caller verifier is configured: set CALLER_JWT_HS256_SECRET[_FILE], CALLER_JWT_PUBLIC_KEY_FILE, "
                    + "CALLER_JWT_JWKS_FILE or CALLER_ACCEPT_MIRO_ID_TOKEN=true"
            )
        }
        if let hmacSecret {
            if hmacSecret.count < Settings.minimumSecretBytes {
                throw SettingsError("CALLER_JWT_HS256_SECRET", "must be at least \(Settings.minimumSecretBytes) bytes")
            }
            if hmacSecret == clientSecret {
                throw SettingsError(
                    "CALLER_JWT_HS256_SECRET",
                    "must differ from MIRO_CLIENT_SECRET, or every issued Miro token would pass as a caller token"
                )
            }
        }
    }
}
