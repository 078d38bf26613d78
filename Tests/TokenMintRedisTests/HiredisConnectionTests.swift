import Testing
import TokenMint
import TokenMintRedis
import TokenMintTesting

/// The hiredis connection against a real `redis-server`: replies as Swift values, AUTH and SELECT, and every call
/// bounded when the server is gone or frozen.
@Suite(.serialized) struct HiredisConnectionTests {
    @Test func repliesBecomeSwiftValues() async throws {
        let redis = try await RedisServer()
        let connection = HiredisConnection(settings: try RedisSettings.parse(url: redis.url))
        #expect(try await connection.send(["GET", "missing"]) == .null)
        #expect(try await connection.send(["SET", "k", "v\u{0}w", "PX", "10000"]) == .status("OK"))
        #expect(try await connection.send(["GET", "k"]) == .bulk(Array("v\u{0}w".utf8)))
        #expect(try await connection.send(["SET", "k", "x", "NX"]) == .null)
        #expect(try await connection.send(["INCR", "n"]) == .integer(1))
        #expect(try await connection.send(["MGET", "k", "missing"]) == .array([.bulk(Array("v\u{0}w".utf8)), .null]))
        if case .error(let message) = try await connection.send(["NOSUCHCOMMAND"]) {
            #expect(message.hasPrefix("ERR"))
        } else {
            Issue.record("expected an error reply")
        }
        await connection.close()
    }

    @Test func authWithUserAndSelect() async throws {
        let redis = try await RedisServer(password: "top-secret-pw")
        try redis.cli(["ACL", "SETUSER", "app", "on", ">app-pw", "~*", "+@all"])
        let connection = HiredisConnection(
            settings: try RedisSettings.parse(url: "redis://app:app-pw@127.0.0.1:\(redis.port)/3")
        )
        #expect(try await connection.send(["SET", "in-db-3", "1"]) == .status("OK"))
        #expect(try redis.cli(["-n", "3", "GET", "in-db-3"]) == "1")
        #expect(try await connection.send(["ACL", "WHOAMI"]) == .bulk(Array("app".utf8)))

        let wrong = HiredisConnection(
            settings: try RedisSettings.parse(url: "redis://:not-it@127.0.0.1:\(redis.port)")
        )
        await #expect {
            _ = try await wrong.send(["PING"])
        } throws: { error in
            (error as? RedisError)?.kind == .authentication && !"\(error)".contains("not-it")
        }
    }

    @Test func aRefusedConnectionFailsFastThenBacksOff() async throws {
        let port = try RedisServer.freePort()
        let connection = HiredisConnection(settings: RedisSettings(host: "127.0.0.1", port: port))
        let started = ContinuousClock.now
        await #expect(throws: RedisError.self) { _ = try await connection.send(["PING"]) }
        #expect(ContinuousClock.now - started < .milliseconds(300))
        // Within the reconnect backoff the next call does not even try.
        await #expect {
            _ = try await connection.send(["PING"])
        } throws: { error in
            "\(error)".contains("reconnecting")
        }
    }

    @Test func aFrozenServerTimesOutWithinTheBudgetAndIsUsedAgainWhenThawed() async throws {
        let redis = try await RedisServer()
        var settings = try RedisSettings.parse(url: redis.url)
        settings.commandTimeoutMilliseconds = 100
        settings.connectTimeoutMilliseconds = 100
        let connection = HiredisConnection(settings: settings)
        #expect(try await connection.send(["PING"]) == .status("PONG"))
        redis.freeze()
        let started = ContinuousClock.now
        await #expect {
            _ = try await connection.send(["PING"])
        } throws: { error in
            (error as? RedisError)?.kind == .timeout
        }
        #expect(ContinuousClock.now - started < .milliseconds(400), "bounded: \(ContinuousClock.now - started)")
        redis.thaw()
        // Reconnects after its backoff (at most 2 s).
        let deadline = ContinuousClock.now + .seconds(5)
        var answered = false
        while ContinuousClock.now < deadline {
            if (try? await connection.send(["PING"])) == .status("PONG") {
                answered = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(answered)
    }
}
