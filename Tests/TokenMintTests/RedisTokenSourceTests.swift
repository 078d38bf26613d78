import Logging
import Metrics
import Testing

@testable import TokenMint

/// The shared store's algorithm over an in-memory connection: adopt, lock, mint, release, lose, degrade.
@Suite struct RedisTokenSourceTests {
    let timing = TokenTiming(ttlSeconds: 300, minRemainingSeconds: 60)
    let signer = MiroTokenSigner(clientID: Fixtures.clientID, secret: Secret(Fixtures.clientSecret))
    let keys = SharedTokenKeys(clientID: Fixtures.clientID, secret: Secret(Fixtures.clientSecret))

    func source(_ redis: MemoryRedis, clock: any RefreshClock = SystemRefreshClock()) -> RedisTokenSource {
        RedisTokenSource(
            connection: redis,
            signer: signer,
            secret: Secret(Fixtures.clientSecret),
            timing: timing,
            tokenMetrics: TokenMetrics(factory: NOOPMetricsHandler.instance),
            redisMetrics: RedisMetrics(factory: NOOPMetricsHandler.instance),
            logger: Logger(label: "test"),
            clock: clock,
            random: SeededRandom(seed: 3)
        )
    }

    /// The token an attempt ended with, and whether it is the fleet's (adopted or stored).
    func token(_ attempt: SharedAttempt) -> (MiroToken?, shared: Bool) {
        switch attempt {
        case .adopted(let token), .stored(let token): (token, true)
        case .storeFailed(let token, _): (token, false)
        case .failed: (nil, false)
        }
    }

    @Test func keysCarryTheClientIDInAHashTagAndTheSecretFingerprint() {
        let fingerprint = Secret(Fixtures.clientSecret).fingerprint
        #expect(keys.token == "tokenmint:{\(Fixtures.clientID)}:\(fingerprint):token")
        #expect(keys.lock == "tokenmint:{\(Fixtures.clientID)}:\(fingerprint):lock")
        #expect(SharedTokenKeys(clientID: Fixtures.clientID, secret: Secret(String(repeating: "x", count: 40))) != keys)
    }

    @Test func adoptsAFreshVerifiedTokenWithOneGET() async throws {
        let redis = MemoryRedis()
        let stored = signer.mint(now: UnixTime.now() - 10, ttl: 300)
        redis[keys.token] = stored.compact
        #expect(await source(redis).attempt() == .adopted(stored))
        #expect(redis.commands == ["GET"])
    }

    @Test func mintsUnderTheLockStoresWithExpiryAndReleases() async throws {
        let redis = MemoryRedis()
        let shared = source(redis)
        guard case .stored(let token) = await shared.attempt() else {
            Issue.record("not stored")
            return
        }
        #expect(redis[keys.token] == token.compact)
        #expect(redis[keys.lock] == nil, "released")
        #expect(redis.commands == ["GET", "SET", "GET", "SET", "EVALSHA", "EVAL"])
        #expect(Array(redis.log[1].dropFirst(3)) == ["NX", "PX", "2000"])
        let store = redis.log[3]
        #expect(store[3] == "PX")
        #expect(abs((Int(store[4]) ?? 0) - 300_000) < 2_000)
        // The script is loaded now: the next release is one EVALSHA.
        redis[keys.token] = nil
        _ = await shared.attempt()
        #expect(redis.commands.suffix(2) == ["SET", "EVALSHA"])
    }

    @Test func aTokenAboutToBeDueIsReplacedNotAdopted() async throws {
        let redis = MemoryRedis()
        // 60 + 35 % of 240 = 144 s is the latest refresh point: 140 s left is due for some replica.
        let due = signer.mint(now: UnixTime.now() - 160, ttl: 300)
        redis[keys.token] = due.compact
        let (token, shared) = token(await source(redis).attempt())
        #expect(shared)
        #expect(token != due)
        #expect(redis[keys.token] == token?.compact)
    }

    @Test(arguments: ["forged", "garbage"])
    func aValueThatFailsVerificationIsNeverAdopted(kind: String) async throws {
        let redis = MemoryRedis()
        let other = MiroTokenSigner(clientID: Fixtures.clientID, secret: Secret(String(repeating: "o", count: 40)))
        let planted = kind == "forged" ? other.mint(now: UnixTime.now(), ttl: 3000).compact : "garbage"
        redis[keys.token] = planted
        guard case .stored(let token) = await source(redis).attempt() else {
            Issue.record("not stored")
            return
        }
        #expect(token.compact != planted)
        #expect(signer.verify(token.compact) != nil)
        #expect(redis[keys.token] == token.compact, "overwritten under the lock")
    }

    /// Properly signed with our secret and `iss`, but with times no replica of this fleet mints: replaced under the
    /// lock, so it cannot stop the fleet refreshing.
    @Test(arguments: ["week-long", "issued-ahead", "longer-lived"])
    func aWellSignedTokenWithTimesThisFleetNeverMintsIsReplaced(kind: String) async throws {
        let redis = MemoryRedis()
        let now = UnixTime.now()
        let planted: MiroToken
        switch kind {
        case "week-long": planted = signer.mint(now: now, ttl: 7 * 86400)
        case "issued-ahead": planted = signer.mint(now: now + 60, ttl: 300)
        default: planted = signer.mint(now: now - 100, ttl: 350)
        }
        #expect(signer.verify(planted.compact) != nil)
        redis[keys.token] = planted.compact
        guard case .stored(let token) = await source(redis).attempt() else {
            Issue.record("not stored")
            return
        }
        #expect(token != planted)
        #expect(token.expiresAt - token.issuedAt == 300)
        #expect(redis[keys.token] == token.compact, "overwritten under the lock")
    }

    /// On a test clock: the loser re-reads every 50 ms ± 10 ms and adopts the winner's token at the first read after
    /// it appears (150 ms in), never storing one of its own.
    @Test func aLoserReReadsUntilTheWinnersTokenAppears() async throws {
        let clock = TestClock()
        let redis = MemoryRedis(clock: clock)
        redis[keys.lock] = "another-replica"
        let winners = signer.mint(now: clock.now(), ttl: 300)
        let keys = self.keys
        redis.schedule(at: clock.now() + 0.15) { values in
            values[keys.token] = winners.compact
            values[keys.lock] = nil
        }
        #expect(await source(redis, clock: clock).attempt() == .adopted(winners))
        #expect(!redis.log.contains { $0[0] == "SET" && $0[1] == keys.token }, "the loser never stores")
        let waits = zip(clock.sleeps, [clock.start] + clock.sleeps).map { $0 - $1 }
        #expect(waits.allSatisfy { $0 >= 0.04 && $0 <= 0.06 }, "\(waits)")
        let elapsed = clock.now() - clock.start
        #expect(elapsed >= 0.15 && elapsed - (waits.last ?? 0) < 0.15, "adopted at the first read after 150 ms")
        #expect(redis.commands == ["GET", "SET"] + Array(repeating: "GET", count: waits.count))
    }

    @Test func aFailingRedisIsReportedNotRetried() async throws {
        let redis = MemoryRedis()
        redis.fail(with: RedisError(.timeout, "frozen"))
        #expect(await source(redis).attempt() == .failed(RedisError(.timeout, "frozen")))
        #expect(redis.commands == ["GET"])
    }

    /// The refresher, the policy and this source together on a test clock: Redis down at start, an own token served
    /// through rejoin attempts spaced by one backoff (no new mint), the fleet's token shared again once Redis answers.
    @Test func aDegradedReplicaKeepsItsTokenAndRejoinsTheFleetOnceRedisAnswers() async throws {
        let clock = TestClock(horizon: TestClock().start + 20)
        let redis = MemoryRedis(clock: clock)
        redis.fail(with: RedisError(.io, "connection refused"))
        let metrics = TokenMetrics(factory: NOOPMetricsHandler.instance)
        let refresher = TokenRefresher(
            minter: TokenMinter(signer: signer, timing: timing, metrics: metrics),
            shared: source(redis, clock: clock),
            cache: TokenCache(timing: timing),
            metrics: metrics,
            logger: Logger(label: "test"),
            clock: clock,
            random: SeededRandom(seed: 5)
        )
        try await refresher.prime(timeout: .seconds(1))
        let own = try #require(refresher.cache.held)
        #expect(refresher.sharing == .degraded)
        // Redis answers again 5 s in.
        let back = clock.start + 5
        redis.fail(with: nil)
        redis.fail(when: { _ in clock.now() < back })
        await Task { await refresher.run() }.value
        let gets = redis.commands.filter { $0 == "GET" }.count
        #expect(gets >= 4, "asked at start and after each backoff")
        let fleet = try #require(redis[keys.token])
        #expect(refresher.cache.held?.compact == fleet, "the fleet's token in Redis is the one served")
        #expect(refresher.cache.held != own)
        #expect(refresher.sharing == .ok)
    }

    @Test func aStoreThatFailsServesTheTokenMintedUnderTheLockWithoutMintingAgain() async throws {
        let redis = MemoryRedis()
        let tokenKey = keys.token
        redis.fail { $0[0] == "SET" && $0[1] == tokenKey }
        guard case .storeFailed(let token, _) = await source(redis).attempt() else {
            Issue.record("expected storeFailed")
            return
        }
        #expect(signer.verify(token.compact) != nil)
        #expect(redis[keys.lock] == nil, "the lock was released")
        #expect(redis[keys.token] == nil)
    }

    @Test func refusalsAreClassified() {
        #expect(RedisTokenSource.refusal("NOAUTH Authentication required.").kind == .authentication)
        #expect(RedisTokenSource.refusal("NOAUTH Authentication required.").description.contains("REDIS_PASSWORD"))
        #expect(RedisTokenSource.refusal("WRONGPASS invalid username-password pair").kind == .authentication)
        #expect(RedisTokenSource.refusal("WRONGTYPE Operation against a key").kind == .reply)
    }

    @Test func anUnexpectedReplyShapeIsARedisFailure() async throws {
        let redis = MemoryRedis()
        redis.override(with: .integer(7))
        guard case .failed(let error) = await source(redis).attempt() else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.kind == .reply)
    }

    @Test func theReleaseScriptDigestIsItsSHA1() {
        // `redis-cli SCRIPT LOAD` of the same text returns this digest; EVALSHA would fail with NOSCRIPT forever
        // if it differed.
        #expect(RedisTokenSource.releaseScriptSHA.count == 40)
        #expect(RedisTokenSource.releaseScriptSHA.allSatisfy { $0.isHexDigit })
    }
}
