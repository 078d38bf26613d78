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

    @Test func tlsIsRefusedWithAMessageSayingSo() {
        #expect {
            _ = try load(["REDIS_URL": "rediss://:pw@host:6380"])
        } throws: { error in
            (error as? SettingsError)?.variable == "REDIS_URL" && "\(error)".contains("TLS")
        }
    }
}
