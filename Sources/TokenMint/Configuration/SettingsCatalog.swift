/// Every setting, as `tokenmint --help` lists it. Keep in step with ``Settings`` and the README's table.
public enum SettingsCatalog {
    public struct Entry: Sendable {
        public let name: String
        public let defaultValue: String
        public let meaning: String
    }

    public static let entries: [Entry] = [
        .init(name: "MIRO_CLIENT_ID", defaultValue: "required", meaning: "Miro app client ID, the token's iss"),
        .init(
            name: "MIRO_CLIENT_SECRET[_FILE]",
            defaultValue: "required",
            meaning: "Miro app client secret, the HS256 signing key; at least 32 bytes"
        ),
        .init(
            name: "TOKEN_TTL_SECONDS",
            defaultValue: "300",
            meaning: "lifetime of a minted token; at most 86100, at least TOKEN_MIN_REMAINING_SECONDS + 30"
        ),
        .init(
            name: "TOKEN_MIN_REMAINING_SECONDS",
            defaultValue: "60",
            meaning: "a token is served only with at least this much life left"
        ),
        .init(
            name: "CALLER_JWT_HS256_SECRET[_FILE]",
            defaultValue: "-",
            meaning: "secret of the site's user tokens (HS256/384/512; 32/48/64 bytes); not the client secret"
        ),
        .init(
            name: "CALLER_JWT_PUBLIC_KEY_FILE",
            defaultValue: "-",
            meaning: "PEM public key of the site's user tokens (RS256, ES256 or EdDSA)"
        ),
        .init(
            name: "CALLER_JWT_JWKS_FILE",
            defaultValue: "-",
            meaning: "JWKS of the site's user tokens, chosen by kid (RS256, ES256, EdDSA)"
        ),
        .init(
            name: "CALLER_JWT_JWKS_URL",
            defaultValue: "-",
            meaning: "https:// JWKS of the identity provider (http:// only on loopback), refreshed, refetched on "
                + "an unknown kid"
        ),
        .init(
            name: "CALLER_JWT_DISCOVERY",
            defaultValue: "false",
            meaning: "find the JWKS through OIDC discovery at CALLER_JWT_ISSUER (its issuer must match exactly)"
        ),
        .init(
            name: "CALLER_JWT_CA_FILE",
            defaultValue: "system trust store",
            meaning: "PEM bundle of CAs trusted for the JWKS and discovery fetches"
        ),
        .init(
            name: "CALLER_JWT_JWKS_REFRESH_SECONDS",
            defaultValue: "300",
            meaning: "background refresh interval of the fetched JWKS (at least 5)"
        ),
        .init(
            name: "CALLER_JWT_ISSUER",
            defaultValue: "not checked",
            meaning: "required iss of caller tokens (exact code points)"
        ),
        .init(
            name: "CALLER_JWT_AUDIENCE",
            defaultValue: "not checked",
            meaning: "required aud of caller tokens (exact code points); required with any public-key verifier"
        ),
        .init(
            name: "CALLER_JWT_ALLOW_ANY_AUDIENCE",
            defaultValue: "false",
            meaning: "true: accept any aud with a public-key verifier (the explicit opt-out)"
        ),
        .init(
            name: "CALLER_JWT_MAX_LIFETIME_SECONDS",
            defaultValue: "86400",
            meaning: "caller tokens whose exp lies further ahead are refused"
        ),
        .init(
            name: "CALLER_JWT_TYPES",
            defaultValue: "not checked",
            meaning: "comma-separated allowed header typ values (JWT, at+jwt), case-insensitive; when set, typ "
                + "is required"
        ),
        .init(
            name: "CALLER_ACCEPT_MIRO_ID_TOKEN",
            defaultValue: "false",
            meaning: "also accept Miro Web SDK id tokens (iss miro, sub = MIRO_CLIENT_ID)"
        ),
        .init(
            name: "CORS_ALLOWED_ORIGINS",
            defaultValue: "none",
            meaning: "comma-separated origins allowed from a browser; '*' is refused"
        ),
        .init(name: "LOG_FORMAT", defaultValue: "json (text in --dev)", meaning: "json or text"),
        .init(name: "HOST", defaultValue: "127.0.0.1", meaning: "address to listen on"),
        .init(name: "PORT", defaultValue: "8080", meaning: "port to listen on (0 picks a free one)"),
        .init(
            name: "REDIS_URL",
            defaultValue: "unset (in-process cache)",
            meaning: "redis://[[user]:password@]host[:port][/db] shares one token per window across replicas; "
                + "rediss:// for TLS; with REDIS_CLUSTER=true, any node of a Redis Cluster"
        ),
        .init(
            name: "REDIS_CLUSTER",
            defaultValue: "false",
            meaning: "REDIS_URL names a node of a Redis Cluster: MOVED and ASK are followed (at most 5 per command)"
        ),
        .init(
            name: "REDIS_SENTINELS",
            defaultValue: "unset",
            meaning: "host:port[,host:port...] of Redis Sentinels to ask for the primary, instead of REDIS_URL "
                + "(both set is refused)"
        ),
        .init(
            name: "REDIS_SENTINEL_MASTER",
            defaultValue: "unset",
            meaning: "the master's name the sentinels monitor (e.g. mymaster); required with REDIS_SENTINELS"
        ),
        .init(
            name: "REDIS_SENTINEL_PASSWORD[_FILE]",
            defaultValue: "unset",
            meaning: "password of the sentinels (REDIS_PASSWORD is the primary's)"
        ),
        .init(name: "REDIS_DB", defaultValue: "0", meaning: "database SELECTed on the primary, with REDIS_SENTINELS"),
        .init(
            name: "REDIS_SENTINEL_TLS",
            defaultValue: "false",
            meaning: "TLS to the sentinels and the primary, with the REDIS_TLS_* settings"
        ),
        .init(
            name: "REDIS_HEALTH_CHECK_SECONDS",
            defaultValue: "2",
            meaning: "Sentinel and Cluster: ROLE/PING on the node in use this often, so a failover shows in "
                + "/readyz and the logs within seconds (0: only at refresh time)"
        ),
        .init(
            name: "REDIS_TLS_CA_FILE",
            defaultValue: "system trust store",
            meaning: "PEM bundle of the CAs that sign the Redis server's certificate (rediss://)"
        ),
        .init(
            name: "REDIS_TLS_SERVER_NAME",
            defaultValue: "the URL's host (each node's, with Sentinel)",
            meaning: "name sent as SNI and checked in the Redis server's certificate"
        ),
        .init(
            name: "REDIS_TLS_CERT_FILE",
            defaultValue: "unset",
            meaning: "client certificate chain (PEM) for mutual TLS; needs REDIS_TLS_KEY_FILE"
        ),
        .init(
            name: "REDIS_TLS_KEY_FILE",
            defaultValue: "unset",
            meaning: "the client certificate's private key (PEM, unencrypted); needs REDIS_TLS_CERT_FILE"
        ),
        .init(
            name: "REDIS_PASSWORD[_FILE]",
            defaultValue: "unset",
            meaning: "Redis password (the primary's, with Sentinel); overrides the URL's"
        ),
        .init(
            name: "REDIS_CONNECT_TIMEOUT_MS",
            defaultValue: "200",
            meaning: "bound on opening a Redis connection, name resolution, TLS handshake and AUTH included"
        ),
        .init(name: "REDIS_COMMAND_TIMEOUT_MS", defaultValue: "200", meaning: "bound on each Redis command"),
        .init(
            name: "SECRET_RELOAD_SECONDS",
            defaultValue: "10",
            meaning: "how often every _FILE setting and key file is re-read (0: only on SIGHUP); a bad new value "
                + "is logged and left unapplied"
        ),
        .init(
            name: "CALLER_SECRET_ROTATION_GRACE_SECONDS",
            defaultValue: "3600",
            meaning: "how long tokens signed with the previous CALLER_JWT_HS256_SECRET still pass after a new one"
        ),
    ]

    /// The table as plain text, for `--help`.
    public static var text: String {
        let width = entries.map(\.name.count).max() ?? 0
        return entries.map { entry in
            let padding = String(repeating: " ", count: width - entry.name.count)
            return "  \(entry.name)\(padding)  \(entry.meaning) (default: \(entry.defaultValue))"
        }.joined(separator: "\n")
    }
}
