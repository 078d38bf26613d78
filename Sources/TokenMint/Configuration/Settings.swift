import Configuration

/// Everything tokenmint is told by its operator, validated once at startup.
///
/// Built from a `ConfigReader` over the environment and ``SecretFileProvider``. Every rule from DESIGN.md's
/// configuration table is enforced here, so a replica that starts is a replica whose settings make sense; the first
/// violation is thrown as a ``SettingsError`` that names the variable.
public struct Settings: Sendable {
    /// The Miro app's client ID: the `iss` of every minted token.
    public var clientID: String
    /// The Miro app's client secret: the HS256 key of every minted token.
    public var clientSecret: Secret
    /// Lifetime of a minted token, in seconds.
    public var tokenTTLSeconds: Int
    /// A token is served only while it has at least this many seconds left.
    public var minRemainingSeconds: Int
    /// How callers (the site's own user tokens) are verified.
    public var caller: CallerSettings
    /// Origins allowed to call from a browser; empty means no CORS headers at all.
    public var corsAllowedOrigins: [String]
    public var logFormat: LogFormat
    public var host: String
    public var port: Int
    /// Redis-shared mode; nil runs with the in-process cache only.
    public var redis: RedisSettings?
    /// How mounted secrets are re-read while running.
    public var reload: ReloadSettings

    /// The longest TTL accepted: 24 h (Miro's limit) less 5 minutes of clock skew against Miro.
    public static let maximumTTLSeconds = 86_100
    /// A token must be servable for at least this long, or refresh-ahead has no room to work.
    public static let minimumWindowSeconds = 30
    /// HMAC keys shorter than this are refused: RFC 7518 §3.2 asks for a key as long as the hash output.
    public static let minimumSecretBytes = 32

    /// The variables that may also be given as `X_FILE`.
    public static let fileBackedVariables = [
        "MIRO_CLIENT_SECRET", "CALLER_JWT_HS256_SECRET", "REDIS_PASSWORD", "REDIS_SENTINEL_PASSWORD",
    ]

    public enum LogFormat: String, Sendable {
        case json
        case text
    }

    public init(
        clientID: String,
        clientSecret: Secret,
        tokenTTLSeconds: Int = 300,
        minRemainingSeconds: Int = 60,
        caller: CallerSettings,
        corsAllowedOrigins: [String] = [],
        logFormat: LogFormat = .json,
        host: String = "127.0.0.1",
        port: Int = 8080,
        redis: RedisSettings? = nil,
        reload: ReloadSettings = ReloadSettings()
    ) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.tokenTTLSeconds = tokenTTLSeconds
        self.minRemainingSeconds = minRemainingSeconds
        self.caller = caller
        self.corsAllowedOrigins = corsAllowedOrigins
        self.logFormat = logFormat
        self.host = host
        self.port = port
        self.redis = redis
        self.reload = reload
    }

    /// Reads and validates every setting.
    ///
    /// - Parameter defaultLogFormat: `text` under `--dev`, `json` otherwise.
    /// - Throws: ``SettingsError`` for the first setting that is missing or wrong.
    public init(reader: ConfigReader, defaultLogFormat: LogFormat = .json) throws {
        let values = SettingsReader(reader: reader)

        guard let clientID = values.string("miro.client.id") else {
            throw SettingsError("MIRO_CLIENT_ID", "is required (the Miro app's client ID)")
        }
        guard let clientSecret = values.secret("miro.client.secret") else {
            throw SettingsError("MIRO_CLIENT_SECRET", "is required (or MIRO_CLIENT_SECRET_FILE)")
        }
        let ttl = try values.wholeNumber("token.ttl.seconds", default: 300, in: 1...Self.maximumTTLSeconds)
        let minRemaining = try values.wholeNumber(
            "token.min.remaining.seconds",
            default: 60,
            in: 0...Self.maximumTTLSeconds
        )
        let caller = try CallerSettings(values: values)
        let origins = try Self.origins(values.string("cors.allowed.origins"))
        let logFormat: LogFormat
        if let raw = values.string("log.format") {
            guard let format = LogFormat(rawValue: raw) else {
                throw SettingsError("LOG_FORMAT", "must be json or text")
            }
            logFormat = format
        } else {
            logFormat = defaultLogFormat
        }
        let host = values.string("host") ?? "127.0.0.1"
        let port = try values.wholeNumber("port", default: 8080, in: 0...65535)

        let redis = try RedisSettings.read(from: values)
        let reload = try ReloadSettings(values: values)

        self.init(
            clientID: clientID,
            clientSecret: clientSecret,
            tokenTTLSeconds: ttl,
            minRemainingSeconds: minRemaining,
            caller: caller,
            corsAllowedOrigins: origins,
            logFormat: logFormat,
            host: host,
            port: port,
            redis: redis,
            reload: reload
        )
        try validate()
    }

    /// The rules that tie settings together; also run for settings built in code (tests, `--dev`).
    public func validate() throws {
        if clientID.isEmpty {
            throw SettingsError("MIRO_CLIENT_ID", "must not be empty")
        }
        if clientSecret.count < Self.minimumSecretBytes {
            throw SettingsError("MIRO_CLIENT_SECRET", "must be at least \(Self.minimumSecretBytes) bytes")
        }
        if tokenTTLSeconds > Self.maximumTTLSeconds {
            throw SettingsError(
                "TOKEN_TTL_SECONDS",
                "must be at most \(Self.maximumTTLSeconds) (Miro accepts 24 h, less 5 min for clock skew)"
            )
        }
        if tokenTTLSeconds < minRemainingSeconds + Self.minimumWindowSeconds {
            throw SettingsError(
                "TOKEN_TTL_SECONDS",
                "must exceed TOKEN_MIN_REMAINING_SECONDS by at least \(Self.minimumWindowSeconds) seconds"
            )
        }
        try caller.validate(clientSecret: clientSecret)
    }

    static func origins(_ raw: String?) throws -> [String] {
        guard let raw else { return [] }
        var origins: [String] = []
        for part in raw.split(separator: ",") {
            let origin = part.trimmingWhitespace()
            if origin.isEmpty { continue }
            if origin == "*" {
                throw SettingsError(
                    "CORS_ALLOWED_ORIGINS",
                    "'*' is refused: list the site's origins (https://site.example), comma-separated"
                )
            }
            guard Self.isOrigin(origin) else {
                throw SettingsError(
                    "CORS_ALLOWED_ORIGINS",
                    "each entry must be an origin such as https://site.example (scheme://host[:port], no path)"
                )
            }
            origins.append(origin)
        }
        return origins
    }

    /// An origin as browsers send it in `Origin`: scheme, host, optional port, nothing else.
    static func isOrigin(_ value: String) -> Bool {
        let schemes = ["https://", "http://"]
        guard let scheme = schemes.first(where: { value.hasPrefix($0) }) else { return false }
        let rest = value.dropFirst(scheme.count)
        guard !rest.isEmpty, !rest.hasSuffix(":") else { return false }
        return rest.allSatisfy { character in
            character.isASCII && (character.isLetter || character.isNumber || "-.:[]".contains(character))
        }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
