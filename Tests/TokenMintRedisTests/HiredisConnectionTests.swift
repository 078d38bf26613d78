import Testing
import TokenMint
import TokenMintRedis
import TokenMintTesting

/// The hiredis connection against a real `redis-server`: replies as Swift values, AUTH and SELECT, and every call
/// bounded when the server is gone or frozen.
@Suite(.serialized) struct HiredisConnectionTests {
    @Test func repliesBecomeSwiftValues() async throws {
        let redis = try await RedisServer()
        let connection = try HiredisConnection(settings: try RedisSettings.parse(url: redis.url))
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
        let connection = try HiredisConnection(
            settings: try RedisSettings.parse(url: "redis://app:app-pw@127.0.0.1:\(redis.port)/3")
        )
        #expect(try await connection.send(["SET", "in-db-3", "1"]) == .status("OK"))
        #expect(try redis.cli(["-n", "3", "GET", "in-db-3"]) == "1")
        #expect(try await connection.send(["ACL", "WHOAMI"]) == .bulk(Array("app".utf8)))

        let wrong = try HiredisConnection(
            settings: try RedisSettings.parse(url: "redis://:not-it@127.0.0.1:\(redis.port)")
        )
        await #expect {
            _ = try await wrong.send(["PING"])
        } throws: { error in
            (error as? RedisError)?.kind == .authentication && !"\(error)".contains("not-it")
        }
    }

    /// The connection keeps no backoff of its own (the refresh policy's is the only one): each call after a refusal
    /// connects again, and answers once the server is there.
    @Test func aRefusedConnectionFailsFastAndTheNextCallConnectsAgain() async throws {
        let redis = try await RedisServer()
        redis.kill()
        // A long connect timeout, so "fast" means the refusal was seen, not the timeout waited out.
        let connection = try HiredisConnection(
            settings: RedisSettings(host: "127.0.0.1", port: redis.port, connectTimeoutMilliseconds: 5000)
        )
        let started = ContinuousClock.now
        await #expect {
            _ = try await connection.send(["PING"])
        } throws: { error in
            (error as? RedisError)?.kind == .connect
        }
        #expect(ContinuousClock.now - started < .seconds(2), "\(ContinuousClock.now - started)")
        try await redis.start()
        #expect(try await connection.send(["PING"]) == .status("PONG"))
    }

    @Test func aFrozenServerTimesOutWithinTheBudgetAndIsUsedAgainWhenThawed() async throws {
        let redis = try await RedisServer()
        var settings = try RedisSettings.parse(url: redis.url)
        settings.commandTimeoutMilliseconds = 100
        settings.connectTimeoutMilliseconds = 100
        let connection = try HiredisConnection(settings: settings)
        #expect(try await connection.send(["PING"]) == .status("PONG"))
        redis.freeze()
        let started = ContinuousClock.now
        await #expect {
            _ = try await connection.send(["PING"])
        } throws: { error in
            (error as? RedisError)?.kind == .timeout
        }
        // 100 ms each for the command and a reconnect; 2 s leaves room for a loaded CI machine, and an unbounded
        // read of a frozen server would never return at all.
        #expect(ContinuousClock.now - started < .seconds(2), "bounded: \(ContinuousClock.now - started)")
        redis.thaw()
        // The next call reconnects.
        let answered = try await Poll.until(timeout: .seconds(5)) {
            (try? await connection.send(["PING"])) == .status("PONG")
        }
        #expect(answered)
    }

    func tlsSettings(_ redis: RedisServer, ca: String) throws -> RedisSettings {
        var settings = try RedisSettings.parse(url: redis.url)
        settings.tls = RedisTLSSettings(caFile: ca)
        return settings
    }

    /// Over TLS every reply is the same Swift value as over TCP (hiredis parses both), AUTH and SELECT included; and
    /// the handshake's cost, measured against plain connections to the same kind of server.
    @Test func repliesOverTLSAndTheHandshakeCost() async throws {
        let certificates = try TLSCertificates()
        let redis = try await RedisServer(password: "tls-pw-1", tls: .init(certificates: certificates))
        var settings = try tlsSettings(redis, ca: certificates.caFile)
        settings.password = Secret("tls-pw-1")
        settings.database = 2
        let connection = try HiredisConnection(settings: settings)
        #expect(try await connection.send(["GET", "missing"]) == .null)
        let big = String(repeating: "x", count: 100_000) + "\u{0}end"
        #expect(try await connection.send(["SET", "k", big, "PX", "10000"]) == .status("OK"))
        #expect(try await connection.send(["GET", "k"]) == .bulk(Array(big.utf8)))
        #expect(try await connection.send(["MGET", "k", "missing"]) == .array([.bulk(Array(big.utf8)), .null]))
        #expect(try redis.cli(["-n", "2", "STRLEN", "k"]) == "100004")
        if case .error(let message) = try await connection.send(["NOSUCHCOMMAND"]) {
            #expect(message.hasPrefix("ERR"))
        } else {
            Issue.record("expected an error reply")
        }
        await connection.close()

        let plain = try await RedisServer()
        func median(_ settings: RedisSettings) async throws -> Duration {
            var times: [Duration] = []
            for _ in 0..<15 {
                let connection = try HiredisConnection(settings: settings)
                let started = ContinuousClock.now
                _ = try await connection.send(["PING"])
                times.append(ContinuousClock.now - started)
                await connection.close()
            }
            return times.sorted()[times.count / 2]
        }
        var tls = try tlsSettings(redis, ca: certificates.caFile)
        tls.password = Secret("tls-pw-1")
        let tlsMedian = try await median(tls)
        let plainMedian = try await median(try RedisSettings.parse(url: plain.url))
        print("connect + PING, median of 15: plain \(plainMedian), TLS \(tlsMedian) (AUTH included)")
        #expect(tlsMedian < .milliseconds(150), "the handshake fits the default connect timeout with room")
    }

    @Test func aFrozenTLSServerTimesOutWithinTheBudget() async throws {
        let certificates = try TLSCertificates()
        let redis = try await RedisServer(tls: .init(certificates: certificates))
        var settings = try tlsSettings(redis, ca: certificates.caFile)
        settings.commandTimeoutMilliseconds = 100
        settings.connectTimeoutMilliseconds = 100
        let connection = try HiredisConnection(settings: settings)
        #expect(try await connection.send(["PING"]) == .status("PONG"))
        redis.freeze()
        var started = ContinuousClock.now
        await #expect {
            _ = try await connection.send(["PING"])
        } throws: { error in
            (error as? RedisError)?.kind == .timeout
        }
        // 100 ms each for the command and a reconnect; 2 s leaves room for a loaded CI machine, and an unbounded
        // read of a frozen server would never return at all.
        #expect(ContinuousClock.now - started < .seconds(2), "bounded: \(ContinuousClock.now - started)")
        // A new handshake with the frozen server is bounded by the connect timeout.
        started = ContinuousClock.now
        await #expect(throws: RedisError.self) { _ = try await connection.send(["PING"]) }
        // 100 ms each for the command and a reconnect; 2 s leaves room for a loaded CI machine, and an unbounded
        // read of a frozen server would never return at all.
        #expect(ContinuousClock.now - started < .seconds(2), "bounded: \(ContinuousClock.now - started)")
        redis.thaw()
        #expect(try await connection.send(["PING"]) == .status("PONG"))
    }

    @Test func aCertificateThatDoesNotVerifyIsATLSError() async throws {
        let certificates = try TLSCertificates()
        let other = try TLSCertificates()
        let redis = try await RedisServer(tls: .init(certificates: certificates))
        let connection = try HiredisConnection(settings: try tlsSettings(redis, ca: other.caFile))
        await #expect {
            _ = try await connection.send(["PING"])
        } throws: { error in
            (error as? RedisError)?.kind == .tls && "\(error)".contains("certificate does not verify")
        }
    }

    @Test func aFileOpenSSLCannotUseIsASettingsError() throws {
        var settings = RedisSettings(host: "127.0.0.1", tls: RedisTLSSettings(caFile: "/etc/hostname"))
        #expect { _ = try HiredisConnection(settings: settings) } throws: { error in
            (error as? SettingsError)?.variable == "REDIS_TLS_CA_FILE"
        }
        settings.tls = RedisTLSSettings(certificateFile: "/etc/hostname", keyFile: "/etc/hostname")
        #expect { _ = try HiredisConnection(settings: settings) } throws: { error in
            (error as? SettingsError)?.variable == "REDIS_TLS_CERT_FILE"
        }
    }
}
