import Testing

@testable import TokenMint

@Suite struct RedisSettingsTests {
    func load(_ changes: [String: String]) throws -> Settings {
        var environment = [
            "MIRO_CLIENT_ID": Fixtures.clientID, "MIRO_CLIENT_SECRET": Fixtures.clientSecret,
            "CALLER_JWT_HS256_SECRET": Fixtures.callerSecret,
        ]
        environment.merge(changes) { _, new in new }
        return try Settings.load(environment: environment)
    }

    @Test func unsetMeansNoRedis() throws {
        #expect(try load([:]).redis == nil)
    }

    @Test func fullURL() throws {
        let redis = try #require(try load(["REDIS_URL": "redis://app:p%40ss:w@redis.internal:6380/2"]).redis)
        #expect(redis.host == "redis.internal")
        #expect(redis.port == 6380)
        #expect(redis.user == "app")
        #expect(redis.password == Secret("p@ss:w"))
        #expect(redis.database == 2)
        #expect(redis.connectTimeoutMilliseconds == 200)
        #expect(redis.commandTimeoutMilliseconds == 200)
        #expect(!redis.address.contains("p@ss"))
    }

    @Test func defaultsAndPasswordOnly() throws {
        let plain = try RedisSettings.parse(url: "redis://127.0.0.1")
        #expect(plain == RedisSettings(host: "127.0.0.1", port: 6379))
        let passwordOnly = try RedisSettings.parse(url: "redis://:secret@[::1]:7000/")
        #expect(passwordOnly.user == nil)
        #expect(passwordOnly.password == Secret("secret"))
        #expect(passwordOnly.host == "::1")
        #expect(passwordOnly.port == 7000)
    }

    @Test func passwordVariableOverridesTheURLAndTimeoutsAreRead() throws {
        let redis = try #require(
            try load([
                "REDIS_URL": "redis://:old@localhost", "REDIS_PASSWORD": "new",
                "REDIS_CONNECT_TIMEOUT_MS": "150", "REDIS_COMMAND_TIMEOUT_MS": "75",
            ]).redis
        )
        #expect(redis.password == Secret("new"))
        #expect(redis.connectTimeoutMilliseconds == 150)
        #expect(redis.commandTimeoutMilliseconds == 75)
    }

    @Test(arguments: [
        "localhost:6379", "http://localhost", "redis://", "redis://host:0", "redis://host:99999", "redis://host:x",
        "redis://host/db", "redis://user@host", "redis://:p%zz@host", "redis://ho st", "redis://host?db=1",
    ])
    func malformedURLsStopStartupNamingREDIS_URL(url: String) {
        do {
            _ = try load(["REDIS_URL": url])
            Issue.record("accepted \(url)")
        } catch let error as SettingsError {
            #expect(error.variable == "REDIS_URL")
            #expect(url.count < 10 || !error.description.contains(url), "the URL may carry a password: never echoed")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func redissMeansTLSWithTheSystemTrustStoreByDefault() throws {
        let redis = try #require(try load(["REDIS_URL": "rediss://:pw@cache.example:6380/1"]).redis)
        #expect(redis.tls == RedisTLSSettings())
        #expect(redis.host == "cache.example")
        #expect(redis.port == 6380)
        #expect(redis.database == 1)
        #expect(redis.password == Secret("pw"))
        #expect(redis.address == "rediss://cache.example:6380/1")
        #expect(try RedisSettings.parse(url: "REDIS://h").tls == nil)
    }

    @Test func tlsFilesAndServerNameAreRead() throws {
        let file = "/etc/hostname"
        let redis = try #require(
            try load([
                "REDIS_URL": "rediss://10.0.0.5", "REDIS_TLS_CA_FILE": file, "REDIS_TLS_SERVER_NAME": "redis.internal",
                "REDIS_TLS_CERT_FILE": file, "REDIS_TLS_KEY_FILE": file,
            ]).redis
        )
        #expect(
            redis.tls
                == RedisTLSSettings(caFile: file, serverName: "redis.internal", certificateFile: file, keyFile: file)
        )
    }

    @Test(arguments: [
        (["REDIS_TLS_CERT_FILE": "/etc/hostname"], "REDIS_TLS_KEY_FILE"),
        (["REDIS_TLS_KEY_FILE": "/etc/hostname"], "REDIS_TLS_CERT_FILE"),
        (["REDIS_TLS_CA_FILE": "/no/such/ca.pem"], "REDIS_TLS_CA_FILE"),
        (["REDIS_TLS_SERVER_NAME": "bad name"], "REDIS_TLS_SERVER_NAME"),
    ])
    func aBadTLSSettingStopsStartupNamingIt(changes: [String: String], variable: String) {
        var environment = changes
        environment["REDIS_URL"] = "rediss://:pw@host"
        #expect {
            _ = try load(environment)
        } throws: { error in
            (error as? SettingsError)?.variable == variable && !"\(error)".contains("pw")
        }
    }

    /// A TLS setting with a plaintext URL would be silently ignored: refused instead.
    @Test func aTLSSettingWithAPlaintextURLStopsStartup() {
        #expect {
            _ = try load(["REDIS_URL": "redis://host", "REDIS_TLS_CA_FILE": "/etc/hostname"])
        } throws: { error in
            (error as? SettingsError)?.variable == "REDIS_TLS_CA_FILE" && "\(error)".contains("rediss://")
        }
    }

    // MARK: Sentinel and Cluster

    @Test func sentinelSettingsAreRead() throws {
        let redis = try #require(
            try load([
                "REDIS_SENTINELS": "sentinel-0.redis-headless:26379, 10.0.0.9:26380,[::1]:26381",
                "REDIS_SENTINEL_MASTER": "mymaster", "REDIS_SENTINEL_PASSWORD": "sentinel-secret",
                "REDIS_PASSWORD": "primary-secret", "REDIS_DB": "3", "REDIS_HEALTH_CHECK_SECONDS": "5",
            ]).redis
        )
        guard case .sentinel(let sentinel) = redis.mode else {
            Issue.record("not sentinel mode: \(redis.mode)")
            return
        }
        #expect(
            sentinel.sentinels == [
                RedisNodeAddress(host: "sentinel-0.redis-headless", port: 26379),
                RedisNodeAddress(host: "10.0.0.9", port: 26380), RedisNodeAddress(host: "::1", port: 26381),
            ]
        )
        #expect(sentinel.masterName == "mymaster")
        #expect(sentinel.password == Secret("sentinel-secret"))
        #expect(redis.password == Secret("primary-secret"))
        #expect(redis.database == 3)
        #expect(redis.tls == nil)
        #expect(redis.healthCheckSeconds == 5)
        #expect(!redis.address.contains("secret"))
        #expect(redis.address.contains("mymaster"))
        // A sentinel is asked with its own password and database 0; the primary with the primary's.
        let sentinelNode = redis.sentinelNode(sentinel.sentinels[1], password: sentinel.password)
        #expect(sentinelNode.password == Secret("sentinel-secret"))
        #expect(sentinelNode.database == 0)
        #expect(sentinelNode.mode == .standalone)
        let primary = redis.dataNode(RedisNodeAddress(host: "10.0.0.5", port: 6379))
        #expect(primary.password == Secret("primary-secret"))
        #expect(primary.database == 3)
        #expect(primary.address == "10.0.0.5:6379/3")
    }

    @Test func sentinelTLSUsesTheTLSFiles() throws {
        let redis = try #require(
            try load([
                "REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": "mymaster", "REDIS_SENTINEL_TLS": "true",
                "REDIS_TLS_CA_FILE": "/etc/hostname",
            ]).redis
        )
        #expect(redis.tls?.caFile == "/etc/hostname")
    }

    @Test func defaultsOfSentinelMode() throws {
        let redis = try #require(
            try load(["REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": "mymaster"]).redis
        )
        #expect(redis.database == 0)
        #expect(redis.healthCheckSeconds == RedisSettings.defaultHealthCheckSeconds)
        #expect(redis.password == nil)
    }

    @Test(arguments: [
        (["REDIS_SENTINELS": "s", "REDIS_SENTINEL_MASTER": "m"], "REDIS_SENTINELS"),
        (["REDIS_SENTINELS": "s:26379,,t:26379", "REDIS_SENTINEL_MASTER": "m"], "REDIS_SENTINELS"),
        (["REDIS_SENTINELS": "s:0", "REDIS_SENTINEL_MASTER": "m"], "REDIS_SENTINELS"),
        (["REDIS_SENTINELS": "redis://s:26379", "REDIS_SENTINEL_MASTER": "m"], "REDIS_SENTINELS"),
        (["REDIS_SENTINELS": "s:26379"], "REDIS_SENTINEL_MASTER"),
        (["REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": ""], "REDIS_SENTINEL_MASTER"),
        (["REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": "my master"], "REDIS_SENTINEL_MASTER"),
        (["REDIS_SENTINEL_MASTER": "mymaster"], "REDIS_SENTINEL_MASTER"),
        (["REDIS_URL": "redis://h", "REDIS_SENTINEL_PASSWORD": "x"], "REDIS_SENTINEL_PASSWORD"),
        (["REDIS_URL": "redis://h", "REDIS_DB": "1"], "REDIS_DB"),
        (["REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": "m", "REDIS_DB": "x"], "REDIS_DB"),
        (
            ["REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": "m", "REDIS_SENTINEL_TLS": "maybe"],
            "REDIS_SENTINEL_TLS"
        ),
        (
            ["REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": "m", "REDIS_TLS_CA_FILE": "/etc/hostname"],
            "REDIS_TLS_CA_FILE"
        ),
        (["REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": "m", "REDIS_CLUSTER": "true"], "REDIS_CLUSTER"),
        (
            ["REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": "m", "REDIS_HEALTH_CHECK_SECONDS": "often"],
            "REDIS_HEALTH_CHECK_SECONDS"
        ),
        (["REDIS_CLUSTER": "true"], "REDIS_CLUSTER"),
        (["REDIS_URL": "redis://h/2", "REDIS_CLUSTER": "true"], "REDIS_URL"),
    ])
    func badSentinelAndClusterSettingsStopStartup(environment: [String: String], variable: String) {
        #expect {
            _ = try load(environment)
        } throws: { error in
            (error as? SettingsError)?.variable == variable
        }
    }

    @Test func bothREDIS_URLAndREDIS_SENTINELSAreRefusedNamingBoth() {
        #expect {
            _ = try load(["REDIS_URL": "redis://h", "REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": "m"])
        } throws: { error in
            "\(error)".contains("REDIS_URL") && "\(error)".contains("REDIS_SENTINELS")
        }
    }

    @Test func clusterMode() throws {
        let redis = try #require(try load(["REDIS_URL": "redis://node-2:7002", "REDIS_CLUSTER": "true"]).redis)
        #expect(redis.mode == .cluster)
        #expect(redis.node == RedisNodeAddress(host: "node-2", port: 7002))
        #expect(try load(["REDIS_URL": "redis://node-2:7002", "REDIS_CLUSTER": "false"]).redis?.mode == .standalone)
    }

    @Test func aNewSentinelPasswordRebuildsTheRedisConnection() throws {
        let base = ["REDIS_SENTINELS": "s:26379", "REDIS_SENTINEL_MASTER": "m", "REDIS_SENTINEL_PASSWORD": "one"]
        let old = try load(base)
        var changed = base
        changed["REDIS_SENTINEL_PASSWORD"] = "two"
        let change = SettingsChange(from: old, to: try load(changed), changedFiles: [])
        #expect(change.redis)
        #expect(change.rebuildsTokenSource)
        #expect(WatchedFiles.variables.contains("REDIS_SENTINEL_PASSWORD_FILE"))
    }

    @Test(arguments: ["host:6379", "[::1]:26379", "a.b-c_d:1"])
    func nodeAddressesParse(text: String) throws {
        let address = try #require(RedisNodeAddress.parse(Substring(text)))
        #expect(address.description == text)
    }

    @Test(arguments: ["host", "host:", ":6379", "host:65536", "host:-1", "ho st:1", "[::1]6379", "h:1:2x"])
    func malformedNodeAddressesAreRefused(text: String) {
        #expect(RedisNodeAddress.parse(Substring(text)) == nil)
    }

    @Test func theKeysShareOneClusterSlot() {
        let keys = SharedTokenKeys(clientID: "3458764500000000001", secret: Secret(String(repeating: "s", count: 32)))
        func tag(_ key: String) -> Substring? {
            guard let open = key.firstIndex(of: "{"), let close = key[open...].firstIndex(of: "}") else { return nil }
            return key[key.index(after: open)..<close]
        }
        #expect(tag(keys.token) == "3458764500000000001")
        #expect(tag(keys.token) == tag(keys.lock))
    }
}
