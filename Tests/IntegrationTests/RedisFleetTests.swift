import Foundation
import Testing
import TokenMintTesting

#if canImport(Glibc)
import Glibc
#endif

/// Redis-shared mode with real processes against a real `redis-server` (DESIGN.md, "The shared token and how
/// replicas agree on it"). Serialized: the timing assertions need the two cores to themselves.
@Suite(.serialized) struct RedisFleetTests {
    static let keyPrefix =
        "tokenmint:{\(TokenMintProcess.clientID)}:\(JWTText.fingerprint(TokenMintProcess.clientSecret))"
    static let tokenKey = keyPrefix + ":token"
    static let lockKey = keyPrefix + ":lock"
    /// Short windows so three of them fit in a test: window = 30 s, refresh-ahead at 12.5-15.5 s of life left.
    static let shortTTL = ["TOKEN_TTL_SECONDS": "35", "TOKEN_MIN_REMAINING_SECONDS": "5"]

    @Test func eightReplicasStartedTogetherMintOnce() async throws {
        let redis = try await RedisServer()
        let fleet = try await Replica.fleet(8, redisURL: redis.url)
        let tokens = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for replica in fleet {
                for _ in 0..<4 {
                    group.addTask {
                        let response = try await replica.token()
                        return (response.status, response.body)
                    }
                }
            }
            return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
        }
        #expect(tokens.count == 32)
        #expect(tokens.allSatisfy { $0.0 == 200 })
        #expect(Set(tokens.map(\.1)).count == 1)
        #expect(try await fleet.mintedTotal() == 1)
        #expect(try redis.cli(["GET", Self.tokenKey]) == tokens.first?.1)
        for replica in fleet { #expect(try await replica.redisState() == "ok") }
    }

    /// Three windows: one mint per window for the fleet, every replica switches to the new token, and no response
    /// ever carries a token below the minimum remaining life.
    @Test func threeWindowsOneMintEach() async throws {
        let redis = try await RedisServer()
        let fleet = try await Replica.fleet(3, redisURL: redis.url, environment: Self.shortTTL)
        var seen: [String: Set<Int>] = [:]  // token -> replicas that served it
        var order: [String] = []
        var worstRemaining = Double.infinity
        var failures = 0
        _ = try await Poll.until(timeout: .seconds(90), every: .milliseconds(200)) {
            for (index, replica) in fleet.enumerated() {
                let response = try await replica.token()
                guard response.status == 200, let token = ServedToken(response.body) else {
                    failures += 1
                    continue
                }
                worstRemaining = min(worstRemaining, token.remaining())
                if seen[token.compact] == nil { order.append(token.compact) }
                seen[token.compact, default: []].insert(index)
            }
            return order.count == 3 && seen[order[2]]?.count == fleet.count
        }
        #expect(failures == 0)
        #expect(order.count == 3, "tokens seen: \(order.count)")
        for token in order { #expect(seen[token]?.count == fleet.count, "a replica never switched") }
        #expect(try await fleet.mintedTotal() == order.count)
        // Served tokens had at least MIN (5 s) left; a second of slack for the test's own clock reading.
        #expect(worstRemaining >= 4, "worst remaining life served: \(worstRemaining)")
    }

    /// The lock holder dies between taking the lock and storing: the lock expires (2 s) and another replica takes
    /// over and stores its token; a replica already serving keeps serving under load throughout, and nothing fails.
    @Test func aKilledLockHolderIsTakenOverWithinTheLockTTL() async throws {
        let redis = try await RedisServer()
        let serving = try await Replica.one(redisURL: redis.url)
        try redis.cli(["DEL", Self.tokenKey])  // so that the next replica to start must take the lock
        let load = Task { try await Self.load([serving]) }
        defer { load.cancel() }
        var holderEnvironment = TokenMintProcess.baseEnvironment
        holderEnvironment["REDIS_URL"] = redis.url
        holderEnvironment["TOKENMINT_TEST_HOLD_LOCK_MS"] = "30000"
        let holder = try TokenMintProcess(environment: holderEnvironment)
        let locked = try await Poll.until(timeout: .seconds(10), every: .milliseconds(20)) {
            try redis.cli(["EXISTS", Self.lockKey]) == "1"
        }
        guard locked else {
            Issue.record("the holder never took the lock")
            return
        }
        let lockTaken = ContinuousClock.now
        var environment = TokenMintProcess.baseEnvironment
        environment["REDIS_URL"] = redis.url
        let waiter = try TokenMintProcess(environment: environment)
        try await Task.sleep(for: .milliseconds(300))
        holder.signal(SIGKILL)
        let port = try await waiter.port()
        let takeover = ContinuousClock.now - lockTaken
        // Lock TTL 2 s, plus one re-read round and process start-up.
        #expect(takeover < .seconds(4), "took over after \(takeover)")
        let replica = Replica(process: waiter, port: port)
        for _ in 0..<20 { #expect(try await replica.token().status == 200) }
        #expect(try await replica.minted() == 1)
        #expect(try redis.cli(["GET", Self.tokenKey]) == (try await replica.token().body))
        #expect(try redis.cli(["EXISTS", Self.lockKey]) == "0", "the new winner released its lock")
        #expect(try await replica.redisState() == "ok")
        load.cancel()
        let (requests, failures) = try await load.value
        #expect(requests > 20)
        #expect(failures == 0, "\(failures) of \(requests) requests failed")
    }

    enum Outage: String, CaseIterable, Sendable {
        case killed, frozen
    }

    /// Redis killed (SIGKILL) or frozen (SIGSTOP: commands time out) while replicas serve and refresh: no request
    /// fails, every token served is valid, replicas report degraded; once Redis is back they converge on one token
    /// within a window and report ok.
    @Test(arguments: Outage.allCases)
    func redisOutageUnderLoad(outage: Outage) async throws {
        let redis = try await RedisServer()
        let fleet = try await Replica.fleet(3, redisURL: redis.url, environment: Self.shortTTL)
        let first = try #require(ServedToken(try await fleet[0].token().body))

        let load = Task { try await Self.load(fleet) }
        defer { load.cancel() }

        // Every replica refreshes at 12.5-15.5 s of life left: take Redis away before, bring it back after.
        try await Task.sleep(for: .seconds(max(0, first.remaining() - 17)))
        switch outage {
        case .killed: redis.kill()
        case .frozen: redis.freeze()
        }
        let degraded = try await Poll.until(timeout: .seconds(15), every: .milliseconds(250)) {
            var states: [String?] = []
            for replica in fleet { states.append(try await replica.redisState()) }
            return states.allSatisfy { $0 == "degraded" }
        }
        #expect(degraded, "every replica refreshed during the outage and reported degraded")
        #expect(try await fleet[0].metric("tokenmint_degraded") == 1)
        #expect((try await fleet[0].metric("tokenmint_redis_errors_total") ?? 0) >= 1)
        switch outage {
        case .killed: try await redis.start()
        case .frozen: redis.thaw()
        }

        // Converge within a window (30 s) after Redis returns, plus slack for the re-read round.
        let converged = try await Poll.until(timeout: .seconds(40), every: .milliseconds(250)) {
            var tokens: Set<String> = []
            var states: Set<String?> = []
            for replica in fleet {
                tokens.insert(try await replica.token().body)
                states.insert(try await replica.redisState())
            }
            return tokens.count == 1 && states == ["ok"]
        }
        #expect(converged, "the fleet converged on one token after Redis returned")
        load.cancel()
        let (requests, failures) = try await load.value
        #expect(requests > 100)
        #expect(failures == 0, "\(failures) of \(requests) requests failed")
    }

    /// Requests from three clients until cancelled: (requests, failures). A failure is anything but a 200 carrying a
    /// token with at least MIN (5 s) of life left, less a second of slack for the test's clock reading.
    static func load(_ fleet: [Replica]) async throws -> (Int, Int) {
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for client in 0..<3 {
                group.addTask {
                    var requests = 0
                    var failures = 0
                    while !Task.isCancelled {
                        let replica = fleet[(client + requests) % fleet.count]
                        requests += 1
                        do {
                            let response = try await replica.token()
                            if response.status != 200 || (ServedToken(response.body)?.remaining() ?? 0) < 4 {
                                failures += 1
                            }
                        } catch {
                            failures += 1
                        }
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                    return (requests, failures)
                }
            }
            return try await group.reduce(into: (0, 0)) {
                $0.0 += $1.0
                $0.1 += $1.1
            }
        }
    }

    /// A value under the token key that does not verify with our secret (forged with another secret, garbage, or not
    /// even a string), or a properly signed token with a week-long `exp` (which would pin the fleet), is never served:
    /// the replica mints its own and overwrites it, and the fleet shares that.
    @Test(arguments: ["forged", "garbage", "wrong-issuer", "wrong-type", "week-long"])
    func aTokenThatFailsVerificationIsNeverServed(kind: String) async throws {
        let redis = try await RedisServer()
        let exp = Int(Date().timeIntervalSince1970) + 3000
        let planted: String
        switch kind {
        case "forged":
            planted = JWTText.sign(
                header: #"{"alg":"HS256","typ":"JWT"}"#,
                claims: #"{"iss":"\#(TokenMintProcess.clientID)","iat":\#(exp - 3000),"exp":\#(exp)}"#,
                secret: "another-secret-0123456789abcdef-0123456789"
            )
        case "week-long":
            planted = JWTText.sign(
                header: #"{"alg":"HS256","typ":"JWT"}"#,
                claims: #"{"iss":"\#(TokenMintProcess.clientID)","iat":\#(exp - 3000),"exp":\#(exp + 7 * 86400)}"#,
                secret: TokenMintProcess.clientSecret
            )
        case "wrong-issuer":
            planted = JWTText.sign(
                header: #"{"alg":"HS256","typ":"JWT"}"#,
                claims: #"{"iss":"someone-else","iat":\#(exp - 3000),"exp":\#(exp)}"#,
                secret: TokenMintProcess.clientSecret
            )
        default:
            planted = "not a token at all \u{1}\u{2}"
        }
        if kind == "wrong-type" {
            // GET answers WRONGTYPE: this once kept every replica degraded for as long as the key stayed.
            try redis.cli(["HSET", Self.tokenKey, "token", planted])
        } else {
            try redis.cli(["SET", Self.tokenKey, planted])
        }
        let fleet = try await Replica.fleet(2, redisURL: redis.url)
        for replica in fleet {
            for _ in 0..<5 {
                let served = try await replica.token()
                #expect(served.status == 200)
                #expect(served.body != planted)
                #expect(JWTText.verifies(served.body, secret: TokenMintProcess.clientSecret))
            }
        }
        #expect(try await fleet.mintedTotal() == 1, "one replica minted and overwrote it; the other adopted that")
        #expect(try redis.cli(["GET", Self.tokenKey]) == (try await fleet[0].token().body))
        let errors0 = try await fleet[0].metric("tokenmint_redis_errors_total") ?? 0
        let errors1 = try await fleet[1].metric("tokenmint_redis_errors_total") ?? 0
        let errors = errors0 + errors1
        #expect(errors >= 1, "the bad value was counted")
        for replica in fleet {
            #expect(!replica.process.stdout.contains(planted))
            #expect(try await replica.redisState() == "ok")
        }
    }

    /// Restarting the fleet with a new secret: no token signed with the old one is served afterwards, though Redis
    /// still holds it (under the old secret's fingerprint).
    @Test func secretRotationNeverServesTheOldToken() async throws {
        let redis = try await RedisServer()
        let old = try await Replica.fleet(2, redisURL: redis.url)
        let oldToken = try await old[0].token().body
        #expect(JWTText.verifies(oldToken, secret: TokenMintProcess.clientSecret))
        for replica in old { #expect(try await replica.stop() == 0, "SIGTERM in Redis mode drains and exits 0") }

        let newSecret = "rotated-secret-0123456789abcdef-0123456789"
        let new = try await Replica.fleet(2, redisURL: redis.url, environment: ["MIRO_CLIENT_SECRET": newSecret])
        for replica in new {
            for _ in 0..<5 {
                let served = try await replica.token().body
                #expect(served != oldToken)
                #expect(JWTText.verifies(served, secret: newSecret))
                #expect(!JWTText.verifies(served, secret: TokenMintProcess.clientSecret))
            }
        }
        #expect(try await new.mintedTotal() == 1)
        #expect(try redis.cli(["GET", Self.tokenKey]) == oldToken, "the old key is left alone, never read")
    }

    /// `requirepass`: the password in the URL or in REDIS_PASSWORD works; without it (or with a wrong one) the
    /// replica still becomes ready, degraded, with a log line saying what is wrong.
    @Test func requirepass() async throws {
        let password = "redis-pass-0123456789"
        let redis = try await RedisServer(password: password)
        let inURL = try await Replica.one(redisURL: "redis://:\(password)@127.0.0.1:\(redis.port)")
        #expect(try await inURL.redisState() == "ok")
        let served = try await inURL.token().body
        let fromFile = FileManager.default.temporaryDirectory.appendingPathComponent("redis-password-\(UUID())")
        try (password + "\n").write(to: fromFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: fromFile) }
        let inFile = try await Replica.one(
            redisURL: "redis://:wrong@127.0.0.1:\(redis.port)",
            environment: ["REDIS_PASSWORD_FILE": fromFile.path]
        )
        #expect(try await inFile.redisState() == "ok")
        #expect(try await inFile.token().body == served, "adopted the shared token")
        #expect(try await [inURL, inFile].mintedTotal() == 1)

        let without = try await Replica.one(redisURL: redis.url)
        #expect(try await without.readyz().status == 200)
        #expect(try await without.redisState() == "degraded")
        #expect(try await without.token().status == 200)
        #expect(without.process.stdout.contains("requires a password"), "\(without.process.stdout)")
        #expect(without.process.stdout.contains("REDIS_PASSWORD"))

        let wrong = try await Replica.one(redisURL: "redis://:wrong-password@127.0.0.1:\(redis.port)")
        #expect(try await wrong.redisState() == "degraded")
        #expect(wrong.process.stdout.contains("AUTH refused"), "\(wrong.process.stdout)")
        #expect(!wrong.process.stdout.contains("wrong-password"), "the password is never logged")
        #expect(!inURL.process.stdout.contains(password))
    }

    /// Time from the process's start to listening (it listens only once it holds a token): under 1 s with Redis up
    /// and with Redis unreachable.
    @Test func readyQuicklyWithRedisUpAndUnreachable() async throws {
        let redis = try await RedisServer()
        let unreachable = "redis://127.0.0.1:\(try LoopbackPorts.reserve())"
        for (label, url) in [("up", redis.url), ("unreachable", unreachable), ("up, adopting", redis.url)] {
            let started = ContinuousClock.now
            let replica = try await Replica.one(redisURL: url)
            let elapsed = ContinuousClock.now - started
            print("time to ready with Redis \(label): \(elapsed)")
            #expect(elapsed < .seconds(1), "Redis \(label): \(elapsed)")
            #expect(try await replica.readyz().status == 200)
            #expect(try await replica.redisState() == (label == "unreachable" ? "degraded" : "ok"))
        }
    }

    /// hiredis does not bound name resolution: with Redis's name taking 3 s to resolve (DESIGN.md: the Redis timeouts
    /// bound "name resolution included"), the replica is ready within 1 s all the same, degraded, serves every request
    /// from memory while the lookup hangs, joins Redis once the name has resolved, and stops on SIGTERM without
    /// waiting for a lookup that still hangs.
    @Test func aHangingNameLookupHoldsUpNeitherStartNorRequests() async throws {
        let redis = try await RedisServer()
        let resolver = try await SlowResolver.build()
        let hang = Duration.seconds(3)
        let started = ContinuousClock.now
        let replica = try await Replica.one(
            redisURL: "redis://\(SlowResolver.name):\(redis.port)",
            environment: resolver.environment(delay: hang)
        )
        let elapsed = ContinuousClock.now - started
        print("time to ready with Redis's name hanging for \(hang): \(elapsed)")
        // Generous (the lookup alone would take 3 s): process start-up on a machine shared with other builds varies.
        #expect(elapsed < .seconds(2), "ready after \(elapsed)")
        #expect(try await replica.redisState() == "degraded")
        let (requests, failures) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            group.addTask { try await Self.load([replica]) }
            try await Task.sleep(for: .milliseconds(1500))
            group.cancelAll()
            return try await group.next() ?? (0, 0)
        }
        #expect(ContinuousClock.now - started < hang, "the load did not run while the lookup hung")
        #expect(requests > 20)
        #expect(failures == 0, "\(failures) of \(requests) requests failed")

        var state: String?
        _ = try await Poll.until(timeout: .seconds(20), every: .milliseconds(200)) {
            state = try await replica.redisState()
            return state == "ok"
        }
        #expect(state == "ok", "never rejoined Redis after the lookup answered")
        #expect(try redis.cli(["GET", Self.tokenKey]) == (try await replica.token().body))
        #expect(
            replica.process.stdout.contains("redis timeout: no answer within"),
            "the hung call is logged as a timeout"
        )

        // Nor does shutdown wait for a lookup that still hangs.
        let stuck = try await Replica.one(
            redisURL: "redis://\(SlowResolver.name):\(redis.port)",
            environment: resolver.environment(delay: .seconds(60))
        )
        let stopping = ContinuousClock.now
        #expect(try await stuck.stop() == 0)
        #expect(ContinuousClock.now - stopping < .seconds(3), "stopped after \(ContinuousClock.now - stopping)")
    }
}
