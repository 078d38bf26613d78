#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the shared token lives: `REDIS_URL` and its companions, parsed and checked once at startup.
///
/// - Important: A malformed URL stops startup (``SettingsError`` naming `REDIS_URL`); an unreachable server does
///   not: the replica starts degraded and keeps trying. `rediss://` speaks TLS (``RedisTLSSettings``) and never falls
///   back to plaintext; a `REDIS_TLS_*` setting with a plaintext `redis://` URL stops startup rather than be ignored.
public struct RedisSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// ACL user for `AUTH user password`; nil sends `AUTH password` (the `default` user).
    public var user: String?
    /// From the URL, or `REDIS_PASSWORD[_FILE]`, which wins.
    public var password: Secret?
    /// Database index for `SELECT`; 0 sends no `SELECT`.
    public var database: Int
    /// Bound on opening a connection, name resolution, the TLS handshake and `AUTH`/`SELECT` included.
    public var connectTimeoutMilliseconds: Int
    /// Bound on each command's round trip.
    public var commandTimeoutMilliseconds: Int
    /// TLS (`rediss://`); nil is plaintext.
    public var tls: RedisTLSSettings?
    /// One server, Sentinel or Cluster. In Sentinel mode ``host`` and ``port`` are the first sentinel's (the
    /// primary is asked for); in Cluster mode they name the node asked first.
    public var mode: RedisMode
    /// `REDIS_HEALTH_CHECK_SECONDS`: how often Sentinel and Cluster modes check the node in use (`ROLE`, `PING`),
    /// so a failover is noticed without waiting for the next refresh; 0 checks only at refresh time.
    public var healthCheckSeconds: Int

    public static let defaultPort = 6379
    public static let defaultTimeoutMilliseconds = 200
    public static let defaultHealthCheckSeconds = 2

    public init(
        host: String,
        port: Int = RedisSettings.defaultPort,
        user: String? = nil,
        password: Secret? = nil,
        database: Int = 0,
        connectTimeoutMilliseconds: Int = RedisSettings.defaultTimeoutMilliseconds,
        commandTimeoutMilliseconds: Int = RedisSettings.defaultTimeoutMilliseconds,
        tls: RedisTLSSettings? = nil,
        mode: RedisMode = .standalone,
        healthCheckSeconds: Int = RedisSettings.defaultHealthCheckSeconds
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.commandTimeoutMilliseconds = commandTimeoutMilliseconds
        self.tls = tls
        self.mode = mode
        self.healthCheckSeconds = healthCheckSeconds
    }

    /// `host:port/db`, never the credentials: safe for logs (`rediss://` first when over TLS). In Sentinel mode,
    /// the master's name and the sentinels asked.
    public var address: String {
        let scheme = tls == nil ? "" : "rediss://"
        switch mode {
        case .sentinel(let sentinel):
            return scheme + "sentinel \(sentinel.masterName) via "
                + sentinel.sentinels.map(\.description).joined(separator: ",") + "/\(database)"
        case .standalone, .cluster:
            return scheme + "\(node)/\(database)" + (mode == .cluster ? " (cluster)" : "")
        }
    }

    /// ``host`` and ``port`` as a node address.
    public var node: RedisNodeAddress { RedisNodeAddress(host: host, port: port) }

    /// The settings of one data node (the primary a sentinel named, the node `MOVED` names): the same credentials,
    /// database, timeouts and TLS, one fixed address.
    public func dataNode(_ address: RedisNodeAddress) -> RedisSettings {
        var node = self
        node.host = address.host
        node.port = address.port
        node.mode = .standalone
        return node
    }

    /// The settings of one sentinel: its own password, no user, database 0; the same timeouts and TLS.
    public func sentinelNode(_ address: RedisNodeAddress, password: Secret?) -> RedisSettings {
        var node = dataNode(address)
        node.user = nil
        node.password = password
        node.database = 0
        return node
    }

    /// Parses `redis[s]://[[user]:password@]host[:port][/db]` with `URLComponents`.
    ///
    /// - Throws: ``SettingsError`` naming `REDIS_URL`, with what is wrong and never the URL itself (it may carry a
    ///   password).
    public static func parse(url raw: String) throws -> RedisSettings {
        func refuse(_ problem: String) -> SettingsError { SettingsError("REDIS_URL", problem) }
        let form = "must look like redis://[[user]:password@]host[:port][/db] (or rediss:// for TLS)"
        // URLComponents would quietly escape a stray '%' rather than refuse it.
        let bytes = Array(raw.utf8)
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "%") {
            guard index + 2 < bytes.count, hexValue(bytes[index + 1]) != nil, hexValue(bytes[index + 2]) != nil else {
                throw refuse("a '%' in the credentials must start a %XX escape")
            }
        }
        guard !raw.contains(where: { $0.isWhitespace }), let url = URLComponents(string: raw),
            let scheme = url.scheme?.lowercased(), scheme == "redis" || scheme == "rediss",
            url.query == nil, url.fragment == nil
        else { throw refuse(form) }

        var user: String?
        var password: Secret?
        if let encodedUser = url.percentEncodedUser {
            guard let encodedPassword = url.percentEncodedPassword else {
                throw refuse("\(form) (credentials need a ':' before the password)")
            }
            let name = try percentDecoded(Substring(encodedUser), refuse: refuse)
            let secret = try percentDecoded(Substring(encodedPassword), refuse: refuse)
            user = name.isEmpty ? nil : name
            password = secret.isEmpty ? nil : Secret(secret)
        } else if url.percentEncodedPassword != nil {
            throw refuse(form)
        }

        var database = 0
        let path = url.percentEncodedPath.drop { $0 == "/" }
        if !url.percentEncodedPath.isEmpty, !url.percentEncodedPath.hasPrefix("/") { throw refuse(form) }
        if !path.isEmpty {
            guard path.allSatisfy(\.isASCIIDigit), path.count <= 5, let index = Int(path),
                url.percentEncodedPath.hasPrefix("/"), url.percentEncodedPath.dropFirst().first != "/"
            else {
                throw refuse("the database after '/' must be a whole number")
            }
            database = index
        }

        var host = Substring(url.percentEncodedHost ?? "")
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty,
            host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._:".contains($0)) })
        else {
            throw refuse("\(form) (the host is missing or malformed)")
        }
        var port = defaultPort
        if let value = url.port {
            guard (1...65535).contains(value) else { throw refuse("the port must be a whole number from 1 to 65535") }
            port = value
        }
        return RedisSettings(
            host: String(host),
            port: port,
            user: user,
            password: password,
            database: database,
            tls: scheme == "rediss" ? RedisTLSSettings() : nil
        )
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

    /// Reads `REDIS_URL` or `REDIS_SENTINELS`, `REDIS_PASSWORD[_FILE]`, the timeouts, the mode's own settings and
    /// the `REDIS_TLS_*` files; nil when neither `REDIS_URL` nor `REDIS_SENTINELS` is set.
    ///
    /// - Throws: ``SettingsError`` naming the variable at fault; both `REDIS_URL` and `REDIS_SENTINELS` set is
    ///   refused (naming both), as is a mode's setting without its mode (`REDIS_SENTINEL_MASTER` without
    ///   `REDIS_SENTINELS`), rather than be ignored.
    static func read(from values: SettingsReader) throws -> RedisSettings? {
        let url = values.string("redis.url")
        let sentinels = values.string("redis.sentinels")
        let cluster = try values.flag("redis.cluster", default: false)
        if url != nil, sentinels != nil {
            throw SettingsError(
                "REDIS_URL",
                "and REDIS_SENTINELS are both set: set REDIS_URL for one server or a cluster, or REDIS_SENTINELS "
                    + "with REDIS_SENTINEL_MASTER for Sentinel, not both"
            )
        }
        if sentinels == nil {
            let sentinelOnly = ["redis.sentinel.master", "redis.sentinel.tls", "redis.db"]
            if let key = sentinelOnly.first(where: { values.string($0) != nil }) {
                throw SettingsError(SettingsReader.variable(key), "is set, but REDIS_SENTINELS is not")
            }
            if values.secret("redis.sentinel.password") != nil {
                throw SettingsError("REDIS_SENTINEL_PASSWORD", "is set, but REDIS_SENTINELS is not")
            }
        }
        var settings: RedisSettings
        if let sentinels {
            if cluster {
                throw SettingsError("REDIS_CLUSTER", "cannot be used with REDIS_SENTINELS (Sentinel is not Cluster)")
            }
            settings = try readSentinel(sentinels, from: values)
        } else if let url {
            settings = try parse(url: url)
            if cluster {
                guard settings.database == 0 else {
                    throw SettingsError("REDIS_URL", "names database \(settings.database), but a cluster has only 0")
                }
                settings.mode = .cluster
            }
            if settings.tls != nil {
                settings.tls = try RedisTLSSettings.read(from: values)
            } else if let key = RedisTLSSettings.keys.first(where: { values.string($0) != nil }) {
                throw SettingsError(
                    SettingsReader.variable(key),
                    "is set, but REDIS_URL is plaintext redis://; use rediss:// for TLS"
                )
            }
        } else {
            if cluster { throw SettingsError("REDIS_CLUSTER", "needs REDIS_URL naming a node of the cluster") }
            return nil
        }
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
        settings.healthCheckSeconds = try values.wholeNumber(
            "redis.health.check.seconds",
            default: defaultHealthCheckSeconds,
            in: 0...3600
        )
        return settings
    }

    /// `REDIS_SENTINELS`, `REDIS_SENTINEL_MASTER`, `REDIS_SENTINEL_PASSWORD[_FILE]`, `REDIS_DB` and
    /// `REDIS_SENTINEL_TLS` (TLS to the sentinels and the primary, with the `REDIS_TLS_*` files).
    private static func readSentinel(_ raw: String, from values: SettingsReader) throws -> RedisSettings {
        let sentinels = try RedisSentinelSettings.parseSentinels(raw)
        let master = try RedisSentinelSettings.checkMasterName(values.string("redis.sentinel.master"))
        let database = try values.wholeNumber("redis.db", default: 0, in: 0...99_999)
        let tls = try values.flag("redis.sentinel.tls", default: false)
        if !tls, let key = RedisTLSSettings.keys.first(where: { values.string($0) != nil }) {
            throw SettingsError(
                SettingsReader.variable(key),
                "is set, but REDIS_SENTINEL_TLS is not true; set it for TLS to the sentinels and the primary"
            )
        }
        return RedisSettings(
            host: sentinels[0].host,
            port: sentinels[0].port,
            database: database,
            tls: tls ? try RedisTLSSettings.read(from: values) : nil,
            mode: .sentinel(
                RedisSentinelSettings(
                    sentinels: sentinels,
                    masterName: master,
                    password: values.secret("redis.sentinel.password")
                )
            )
        )
    }
}
