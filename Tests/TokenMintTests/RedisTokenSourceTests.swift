import Logging
import Metrics
import Testing

@testable import TokenMint

/// The shared store's algorithm over an in-memory connection: adopt, lock, mint, release, lose, degrade.
@Suite struct RedisTokenSourceTests {
    let timing = TokenTiming(ttlSeconds: 300, minRemainingSeconds: 60)
    let signer = MiroTokenSigner(clientID: Fixtures.clientID, secret: Secret(Fixtures.clientSecret))
    let keys = SharedTokenKeys(clientID: Fixtures.clientID, secret: Secret(Fixtures.clientSecret))

    func source(_ redis: MemoryRedis) -> RedisTokenSource {
        RedisTokenSource(
            connection: redis,
            signer: signer,
            secret: Secret(Fixtures.clientSecret),
            timing: timing,
            tokenMetrics: TokenMetrics(factory: NOOPMetricsHandler.instance),
            redisMetrics: RedisMetrics(factory: NOOPMetricsHandler.instance),
            logger: Logger(label: "test")
        )
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
        let token = try await source(redis).nextToken(held: nil, now: UnixTime.now())
        #expect(token == stored)
        #expect(redis.commands == ["GET"])
    }

    @Test func mintsUnderTheLockStoresWithExpiryAndReleases() async throws {
        let redis = MemoryRedis()
        let shared = source(redis)
        let token = try await shared.nextToken(held: nil, now: UnixTime.now())
        #expect(redis[keys.token] == token.compact)
        #expect(redis[keys.lock] == nil, "released")
        #expect(redis.commands == ["GET", "SET", "GET", "SET", "EVALSHA", "EVAL"])
        #expect(Array(redis.log[1].dropFirst(3)) == ["NX", "PX", "2000"])
        let store = redis.log[3]
        #expect(store[3] == "PX")
        #expect(abs((Int(store[4]) ?? 0) - 300_000) < 2_000)
        #expect(shared.health.state == .ok)
        // The script is loaded now: the next release is one EVALSHA.
        redis[keys.token] = nil
        _ = try await shared.nextToken(held: token, now: UnixTime.now())
        #expect(redis.commands.suffix(2) == ["SET", "EVALSHA"])
    }

    @Test func aTokenAboutToBeDueIsReplacedNotAdopted() async throws {
        let redis = MemoryRedis()
        // 60 + 35 % of 240 = 144 s is the latest refresh point: 140 s left is due for some replica.
        let due = signer.mint(now: UnixTime.now() - 160, ttl: 300)
        redis[keys.token] = due.compact
        let token = try await source(redis).nextToken(held: due, now: UnixTime.now())
        #expect(token != due)
        #expect(redis[keys.token] == token.compact)
    }

    @Test(arguments: ["forged", "garbage"])
    func aValueThatFailsVerificationIsNeverAdopted(kind: String) async throws {
        let redis = MemoryRedis()
        let other = MiroTokenSigner(clientID: Fixtures.clientID, secret: Secret(String(repeating: "o", count: 40)))
        let planted = kind == "forged" ? other.mint(now: UnixTime.now(), ttl: 3000).compact : "garbage"
        redis[keys.token] = planted
        let token = try await source(redis).nextToken(held: nil, now: UnixTime.now())
        #expect(token.compact != planted)
        #expect(signer.verify(token.compact) != nil)
        #expect(redis[keys.token] == token.compact, "overwritten under the lock")
    }

    @Test func aLoserReReadsUntilTheWinnersTokenAppears() async throws {
        let redis = MemoryRedis()
        redis[keys.lock] = "another-replica"
        let winners = signer.mint(now: UnixTime.now(), ttl: 300)
        let winner = Task {
            try await Task.sleep(for: .milliseconds(150))
            redis[keys.token] = winners.compact
            redis[keys.lock] = nil
        }
        let started = ContinuousClock.now
        let token = try await source(redis).nextToken(held: nil, now: UnixTime.now())
        try await winner.value
        #expect(token == winners)
        #expect(ContinuousClock.now - started < .seconds(1))
        #expect(!redis.log.contains { $0[0] == "SET" && $0[1] == keys.token }, "the loser never stores")
        let rereads = redis.commands.filter { $0 == "GET" }.count
        #expect(rereads >= 2 && rereads <= 6, "about one GET per 50 ms: \(rereads)")
    }

    @Test func aFailingRedisMeansALocalTokenDegradedAndABackoff() async throws {
        let redis = MemoryRedis()
        redis.fail(with: RedisError(.timeout, "frozen"))
        let shared = source(redis)
        let token = try await shared.nextToken(held: nil, now: UnixTime.now())
        #expect(signer.verify(token.compact) != nil)
        #expect(shared.health.state == .degraded)
        #expect(redis.commands == ["GET"])
        // Within the backoff Redis is not even asked.
        redis.fail(with: nil)
        _ = try await shared.nextToken(held: token, now: UnixTime.now())
        #expect(redis.commands == ["GET"])
        #expect(shared.health.backingOff() != nil)
    }

    /// Waits, bounded, until the source's Redis backoff is over and it wants to be asked again.
    func waitForRejoin(_ source: RedisTokenSource, atMost limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while let wait = source.rejoinDelay, wait > .zero, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func aDegradedReplicaKeepsItsTokenAndRejoinsTheFleetOnceRedisAnswers() async throws {
        let redis = MemoryRedis()
        redis.fail(with: RedisError(.io, "connection refused"))
        let shared = source(redis)
        #expect(shared.rejoinDelay == nil, "nothing to rejoin before the first try")
        let own = try await shared.nextToken(held: nil, now: UnixTime.now())
        let rejoin = try #require(shared.rejoinDelay)
        #expect(rejoin > .zero && rejoin <= RedisHealth.initialBackoff * 2)

        // Asked again early (the refresher does, to rejoin) while Redis is still away: the same token, no new mint.
        try await waitForRejoin(shared, atMost: .seconds(5))
        #expect(try await shared.nextToken(held: own, now: UnixTime.now()) == own)
        #expect(shared.health.state == .degraded)

        // Redis is back: after the (now longer) backoff the replica shares again and reports so.
        redis.fail(with: nil)
        try await waitForRejoin(shared, atMost: .seconds(8))
        let rejoined = try await shared.nextToken(held: own, now: UnixTime.now())
        #expect(shared.health.state == .ok)
        #expect(shared.rejoinDelay == nil)
        #expect(redis[keys.token] == rejoined.compact, "the fleet's token is in Redis again")
    }

    @Test func aStoreThatFailsServesTheTokenMintedUnderTheLockWithoutMintingAgain() async throws {
        let redis = MemoryRedis()
        let tokenKey = keys.token
        redis.fail { $0[0] == "SET" && $0[1] == tokenKey }
        let shared = source(redis)
        let token = try await shared.nextToken(held: nil, now: UnixTime.now())
        #expect(signer.verify(token.compact) != nil)
        #expect(shared.health.state == .degraded)
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
        let shared = source(redis)
        _ = try await shared.nextToken(held: nil, now: UnixTime.now())
        #expect(shared.health.state == .degraded)
    }

    @Test func theReleaseScriptDigestIsItsSHA1() {
        // `redis-cli SCRIPT LOAD` of the same text returns this digest; EVALSHA would fail with NOSCRIPT forever
        // if it differed.
        #expect(RedisTokenSource.releaseScriptSHA.count == 40)
        #expect(RedisTokenSource.releaseScriptSHA.allSatisfy { $0.isHexDigit })
    }
}
