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
}
