/// Where the shared token lives: `REDIS_URL` and its companions, parsed and checked once at startup.
///
/// - Important: A malformed URL stops startup (``SettingsError`` naming `REDIS_URL`); an unreachable server does
///   not: the replica starts degraded and keeps trying. `rediss://` is refused because Debian 12's hiredis 0.14 has
///   no TLS (put a TLS sidecar such as stunnel in front and point `redis://` at it).
public struct RedisSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// ACL user for `AUTH user password`; nil sends `AUTH password` (the `default` user).
    public var user: String?
    /// From the URL, or `REDIS_PASSWORD[_FILE]`, which wins.
    public var password: Secret?
    /// Database index for `SELECT`; 0 sends no `SELECT`.
    public var database: Int
    /// Bound on opening a connection, name resolution and `AUTH`/`SELECT` included.
    public var connectTimeoutMilliseconds: Int
    /// Bound on each command's round trip.
    public var commandTimeoutMilliseconds: Int

    public static let defaultPort = 6379
    public static let defaultTimeoutMilliseconds = 200

    public init(
        host: String,
        port: Int = RedisSettings.defaultPort,
        user: String? = nil,
        password: Secret? = nil,
        database: Int = 0,
        connectTimeoutMilliseconds: Int = RedisSettings.defaultTimeoutMilliseconds,
        commandTimeoutMilliseconds: Int = RedisSettings.defaultTimeoutMilliseconds
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.commandTimeoutMilliseconds = commandTimeoutMilliseconds
    }

    /// `host:port/db`, never the credentials: safe for logs.
    public var address: String { "\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)" }

    /// Parses `redis://[[user]:password@]host[:port][/db]`.
    ///
    /// - Throws: ``SettingsError`` naming `REDIS_URL`, with what is wrong and never the URL itself (it may carry a
    ///   password).
    public static func parse(url raw: String) throws -> RedisSettings {
        func refuse(_ problem: String) -> SettingsError { SettingsError("REDIS_URL", problem) }
        let form = "must look like redis://[[user]:password@]host[:port][/db]"
        if raw.lowercased().hasPrefix("rediss://") {
            throw refuse(
                "rediss:// (TLS) is not supported by this build's hiredis 0.14; "
                    + "use a TLS sidecar (stunnel) and redis://"
            )
        }
        guard raw.lowercased().hasPrefix("redis://") else { throw refuse(form) }
        var rest = Substring(raw.dropFirst("redis://".count))
        guard !rest.contains(where: { $0.isWhitespace }), !rest.contains("?"), !rest.contains("#") else {
            throw refuse(form)
        }

        var user: String?
        var password: Secret?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = credentials.firstIndex(of: ":") else {
                throw refuse("\(form) (credentials need a ':' before the password)")
            }
            let name = try percentDecoded(credentials[..<colon], refuse: refuse)
            let secret = try percentDecoded(credentials[credentials.index(after: colon)...], refuse: refuse)
            user = name.isEmpty ? nil : name
            password = secret.isEmpty ? nil : Secret(secret)
        }

        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard path.allSatisfy(\.isASCIIDigit), path.count <= 5, let index = Int(path) else {
                    throw refuse("the database after '/' must be a whole number")
                }
                database = index
            }
        }

        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw refuse(form) }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw refuse(form) }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty,
            host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._:".contains($0)) })
        else {
            throw refuse("\(form) (the host is missing or malformed)")
        }
        var port = defaultPort
        if let portText {
            guard portText.allSatisfy(\.isASCIIDigit), portText.count <= 5, let value = Int(portText),
                (1...65535).contains(value)
            else {
                throw refuse("the port must be a whole number from 1 to 65535")
            }
            port = value
        }
        return RedisSettings(host: String(host), port: port, user: user, password: password, database: database)
    }

    /// `%XX` escapes in the user and password (a password may contain `@` or `:`).
    static func percentDecoded(
        _ text: Substring,
        refuse: (String) -> SettingsError
    ) throws -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw refuse("a '%' in the credentials must start a %XX escape")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Reads `REDIS_URL`, `REDIS_PASSWORD[_FILE]` and the two timeouts; nil when `REDIS_URL` is unset.
    static func read(from values: SettingsReader) throws -> RedisSettings? {
        guard let url = values.string("redis.url") else {
            return nil
        }
        var settings = try parse(url: url)
        if let password = values.secret("redis.password") {
            settings.password = password
        }
        settings.connectTimeoutMilliseconds = try values.wholeNumber(
            "redis.connect.timeout.ms",
            default: defaultTimeoutMilliseconds,
            in: 1...60_000
        )
        settings.commandTimeoutMilliseconds = try values.wholeNumber(
            "redis.command.timeout.ms",
            default: defaultTimeoutMilliseconds,
            in: 1...60_000
        )
        return settings
    }
}
