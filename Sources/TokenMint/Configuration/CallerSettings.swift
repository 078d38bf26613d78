/// How the site's own user tokens are verified. At least one verifier must be configured.
public struct CallerSettings: Sendable {
    /// Shared secret for HS256/384/512 caller tokens.
    public var hmacSecret: Secret?
    /// A PEM public key (RSA, P-256 or Ed25519) for RS256/ES256/EdDSA caller tokens.
    public var publicKeyFile: String?
    /// A JWKS document whose keys are chosen by the token's `kid`.
    public var jwksFile: String?
    /// The identity provider's JWKS, fetched over HTTPS and refreshed (`CALLER_JWT_JWKS_URL`).
    public var jwksURL: String?
    /// Find the JWKS URL through OIDC discovery at ``issuer`` (`CALLER_JWT_DISCOVERY`).
    public var discovery: Bool
    /// PEM bundle of the CAs trusted for the JWKS and discovery fetches; nil means the system trust store.
    public var caFile: String?
    /// Seconds between background refreshes of the fetched JWKS.
    public var jwksRefreshSeconds: Int
    /// When set, a caller token's `iss` must equal it.
    public var issuer: String?
    /// When set, a caller token's `aud` must contain it.
    public var audience: String?
    /// The explicit opt-out of the audience requirement that comes with a public-key verifier.
    public var allowAnyAudience: Bool
    /// A caller token may not live longer than this from now.
    public var maxLifetimeSeconds: Int
    /// Allowed header `typ` values; nil means not checked.
    public var types: CallerTokenTypes?
    /// Also accept Miro Web SDK id tokens (HS256 with the client secret, `iss` miro, `sub` the client ID).
    public var acceptMiroIDToken: Bool

    public static let defaultJWKSRefreshSeconds = 300
    public static let defaultMaxLifetimeSeconds = 86_400
    /// The fastest background refresh allowed: an identity provider is a shared service, not ours to poll.
    public static let minimumJWKSRefreshSeconds = 5

    public init(
        hmacSecret: Secret? = nil,
        publicKeyFile: String? = nil,
        jwksFile: String? = nil,
        jwksURL: String? = nil,
        discovery: Bool = false,
        caFile: String? = nil,
        jwksRefreshSeconds: Int = CallerSettings.defaultJWKSRefreshSeconds,
        issuer: String? = nil,
        audience: String? = nil,
        allowAnyAudience: Bool = false,
        maxLifetimeSeconds: Int = CallerSettings.defaultMaxLifetimeSeconds,
        types: CallerTokenTypes? = nil,
        acceptMiroIDToken: Bool = false
    ) {
        self.hmacSecret = hmacSecret
        self.publicKeyFile = publicKeyFile
        self.jwksFile = jwksFile
        self.jwksURL = jwksURL
        self.discovery = discovery
        self.caFile = caFile
        self.jwksRefreshSeconds = jwksRefreshSeconds
        self.issuer = issuer
        self.audience = audience
        self.allowAnyAudience = allowAnyAudience
        self.maxLifetimeSeconds = maxLifetimeSeconds
        self.types = types
        self.acceptMiroIDToken = acceptMiroIDToken
    }

    init(values: SettingsReader) throws {
        let types: CallerTokenTypes?
        if let list = values.string("caller.jwt.types") {
            guard CallerTokenTypes.isWellFormed(list), let parsed = CallerTokenTypes(list: list) else {
                throw SettingsError("CALLER_JWT_TYPES", "must be a comma-separated list of typ values (JWT, at+jwt)")
            }
            types = parsed
        } else {
            types = nil
        }
        self.init(
            hmacSecret: values.secret("caller.jwt.hs256.secret"),
            publicKeyFile: values.string("caller.jwt.public.key.file"),
            jwksFile: values.string("caller.jwt.jwks.file"),
            jwksURL: values.string("caller.jwt.jwks.url"),
            discovery: try values.flag("caller.jwt.discovery", default: false),
            caFile: values.string("caller.jwt.ca.file"),
            jwksRefreshSeconds: try values.wholeNumber(
                "caller.jwt.jwks.refresh.seconds",
                default: Self.defaultJWKSRefreshSeconds,
                in: Self.minimumJWKSRefreshSeconds...86_400
            ),
            issuer: values.string("caller.jwt.issuer"),
            audience: values.string("caller.jwt.audience"),
            allowAnyAudience: try values.flag("caller.jwt.allow.any.audience", default: false),
            maxLifetimeSeconds: try values.wholeNumber(
                "caller.jwt.max.lifetime.seconds",
                default: Self.defaultMaxLifetimeSeconds,
                in: 1...31_622_400
            ),
            types: types,
            acceptMiroIDToken: try values.flag("caller.accept.miro.id.token", default: false)
        )
    }

    /// Whether caller keys come from the identity provider over the network (a URL or discovery).
    public var fetchesKeys: Bool { jwksURL != nil || discovery }

    /// Whether any public-key verifier is configured: a PEM key, a JWKS file, a JWKS URL or discovery.
    public var hasPublicKeyVerifier: Bool { publicKeyFile != nil || jwksFile != nil || fetchesKeys }

    func validate(clientSecret: Secret) throws {
        if hmacSecret == nil, !hasPublicKeyVerifier, !acceptMiroIDToken {
            throw SettingsError(
                "CALLER_JWT_HS256_SECRET",
                "no caller verifier is configured: set CALLER_JWT_HS256_SECRET[_FILE], CALLER_JWT_PUBLIC_KEY_FILE, "
                    + "CALLER_JWT_JWKS_FILE, CALLER_JWT_JWKS_URL, CALLER_JWT_DISCOVERY=true or "
                    + "CALLER_ACCEPT_MIRO_ID_TOKEN=true"
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
        try validateKeySources()
        // A public key verifies tokens its owner issued to anyone: with a multi-tenant identity provider, a token
        // issued to another application (the attacker's own included) carries the same signature. Only `aud` says
        // the token was meant for this site.
        if hasPublicKeyVerifier, audience == nil, !allowAnyAudience {
            throw SettingsError(
                "CALLER_JWT_AUDIENCE",
                "is required with a public-key caller verifier (PEM, JWKS file, JWKS URL or discovery), or a token "
                    + "the same identity provider issued to any other application passes; set "
                    + "CALLER_JWT_ALLOW_ANY_AUDIENCE=true to accept any audience"
            )
        }
    }

    private func validateKeySources() throws {
        if discovery {
            guard let issuer else {
                throw SettingsError("CALLER_JWT_DISCOVERY", "needs CALLER_JWT_ISSUER, the https:// issuer to discover")
            }
            guard FetchURL.isAcceptable(issuer) else {
                throw SettingsError(
                    "CALLER_JWT_ISSUER",
                    "must be an https:// URL (http:// only for a loopback host) for CALLER_JWT_DISCOVERY"
                )
            }
            if jwksURL != nil {
                throw SettingsError(
                    "CALLER_JWT_DISCOVERY",
                    "cannot be combined with CALLER_JWT_JWKS_URL: discovery finds the JWKS URL itself"
                )
            }
        }
        if let jwksURL, !FetchURL.isAcceptable(jwksURL) {
            throw SettingsError(
                "CALLER_JWT_JWKS_URL",
                "must be an https:// URL without credentials (http:// only for a loopback host)"
            )
        }
        if fetchesKeys, publicKeyFile != nil || jwksFile != nil {
            throw SettingsError(
                jwksURL != nil ? "CALLER_JWT_JWKS_URL" : "CALLER_JWT_DISCOVERY",
                "cannot be combined with CALLER_JWT_PUBLIC_KEY_FILE or CALLER_JWT_JWKS_FILE: use one source of keys"
            )
        }
        if caFile != nil, !fetchesKeys {
            throw SettingsError("CALLER_JWT_CA_FILE", "applies only with CALLER_JWT_JWKS_URL or CALLER_JWT_DISCOVERY")
        }
    }
}
