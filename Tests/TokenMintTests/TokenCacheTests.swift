import Logging
import Metrics
import Synchronization
import Testing

@testable import TokenMint

/// The cache, and the refresher that performs ``RefreshPolicy``'s actions, on a ``TestClock``: schedules are exact
/// however busy the machine is.
@Suite struct TokenCacheTests {
    let timing = TokenTiming(ttlSeconds: 300, minRemainingSeconds: 60)
    let signer = MiroTokenSigner(clientID: Fixtures.clientID, secret: Secret(Fixtures.clientSecret))

    @Test func servesOnlyWithEnoughLifeLeft() {
        let cache = TokenCache(timing: timing)
        #expect(cache.servable(at: 1000) == nil)
        cache.store(MiroToken(compact: "a", issuedAt: 1000, expiresAt: 1300))
        #expect(cache.servable(at: 1200)?.token.compact == "a")
        #expect(cache.servable(at: 1240)?.token.compact == "a")
        #expect(cache.servable(at: 1241) == nil)
    }

    @Test func neverGoesBackInTime() {
        let cache = TokenCache(timing: timing)
        #expect(cache.store(MiroToken(compact: "new", issuedAt: 1100, expiresAt: 1400)))
        let generation = cache.servable(at: 1100)?.generation
        #expect(!cache.store(MiroToken(compact: "old", issuedAt: 1000, expiresAt: 1300)))
        #expect(cache.held?.compact == "new")
        #expect(cache.servable(at: 1100)?.generation == generation)
        #expect(cache.store(MiroToken(compact: "newer", issuedAt: 1200, expiresAt: 1500)))
        // The fleet's token, adopted on rejoining after an outage, replaces a replica's own newer one.
        #expect(cache.store(MiroToken(compact: "fleet", issuedAt: 1150, expiresAt: 1450), replacingNewer: true))
        #expect(cache.held?.compact == "fleet")
        #expect(cache.servable(at: 1200)?.generation != generation)
    }

    @Test func aReaderSeesEveryStoreAndClear() {
        let cache = TokenCache(timing: timing)
        var reader = TokenCache.Reader()
        #expect(reader.servable(from: cache, at: 1000) == nil)
        cache.store(MiroToken(compact: "a", issuedAt: 1000, expiresAt: 1300))
        #expect(reader.servable(from: cache, at: 1000)?.token.compact == "a")
        #expect(reader.servable(from: cache, at: 1241) == nil, "life left is checked on every read")
        cache.store(MiroToken(compact: "b", issuedAt: 1100, expiresAt: 1400))
        let read = reader.servable(from: cache, at: 1100)
        #expect(read?.token.compact == "b")
        #expect(read?.generation == cache.servable(at: 1100)?.generation)
        cache.clear()
        #expect(reader.servable(from: cache, at: 1100) == nil)
        cache.store(MiroToken(compact: "c", issuedAt: 1100, expiresAt: 1400))
        #expect(reader.servable(from: cache, at: 1100)?.token.compact == "c")
    }

    /// An answer prepared for one generation is reused while the generation is the same: a token stored after a
    /// clear must not get the number of the one before it.
    @Test func generationsNeverRepeatAcrossAClear() {
        let cache = TokenCache(timing: timing)
        cache.store(MiroToken(compact: "a", issuedAt: 1000, expiresAt: 1300))
        let first = cache.servable(at: 1000)?.generation
        cache.clear()
        cache.store(MiroToken(compact: "b", issuedAt: 1000, expiresAt: 1300))
        let second = cache.servable(at: 1000)?.generation
        #expect(first != nil && second != nil && first != second)
    }

    /// A shared store that answers from a script (the last answer repeats) and records when it was asked.
    final class ScriptedStore: SharedTokenStore {
        let clock: TestClock
        let script: @Sendable (_ call: Int, _ now: Double) -> SharedAttempt
        let calls = Mutex<[Double]>([])

        init(clock: TestClock, script: @escaping @Sendable (_ call: Int, _ now: Double) -> SharedAttempt) {
            self.clock = clock
            self.script = script
        }

        func attempt() async -> SharedAttempt {
            let now = clock.now()
            let call = calls.withLock {
                $0.append(now)
                return $0.count
            }
            return script(call, now)
        }

        /// Seconds after the clock's start at which the store was asked.
        var offsets: [Double] { calls.withLock { $0.map { ($0 - clock.start) * 1000 }.map { $0.rounded() / 1000 } } }
    }

    func refresher(
        clock: TestClock,
        shared: (any SharedTokenStore)?,
        metrics: TokenMetrics = TokenMetrics(factory: NOOPMetricsHandler.instance)
    ) -> TokenRefresher {
        TokenRefresher(
            minter: TokenMinter(signer: signer, timing: timing, metrics: metrics),
            shared: shared,
            cache: TokenCache(timing: timing),
            metrics: metrics,
            logger: Logger(label: "test"),
            clock: clock,
            random: SeededRandom(seed: 1)
        )
    }

    /// Runs the refresher's loop until the clock's horizon.
    func run(_ refresher: TokenRefresher) async {
        await Task { await refresher.run() }.value
    }

    @Test func withoutAStoreItMintsAtEachRefreshPoint() async throws {
        let clock = TestClock(horizon: 1_000_000 + 600)
        let refresher = refresher(clock: clock, shared: nil)
        try await refresher.prime(timeout: .seconds(1))
        let first = try #require(refresher.cache.held)
        #expect(first.issuedAt == 1_000_000)
        await run(refresher)
        // Each token is refreshed at 60 + 25..35 % of 240 s of life left, i.e. 156-180 s after it was minted.
        let sleeps = clock.sleeps.map { $0 - clock.start }
        #expect(sleeps.count == 4, "\(sleeps)")
        for (earlier, later) in zip([0] + sleeps, sleeps) {
            #expect(later - earlier >= 155 && later - earlier <= 180, "\(sleeps)")
        }
        #expect(refresher.cache.held?.issuedAt == Int(1_000_000 + sleeps[2]))
        #expect(refresher.sharing == .disabled)
    }

    @Test func primeMintsHereWhenTheStoreFailsAndServesAtOnce() async throws {
        let clock = TestClock()
        let store = ScriptedStore(clock: clock) { _, _ in .failed(RedisError(.connect, "refused")) }
        let refresher = refresher(clock: clock, shared: store)
        try await refresher.prime(timeout: .seconds(5))
        #expect(refresher.cache.servable(at: clock.now()) != nil)
        #expect(store.offsets == [0])
        #expect(refresher.sharing == .degraded)
        #expect(clock.sleeps.isEmpty, "ready without waiting")
    }

    /// An attempt that outlasts prime's timeout (every lock round lost to a stuck holder) still ends in a token: the
    /// timeout cuts waiting short, never a mint.
    @Test func primeOutlastedByASlowAttemptStillMintsHere() async throws {
        final class SlowStore: SharedTokenStore {
            let clock: TestClock
            init(clock: TestClock) { self.clock = clock }
            func attempt() async -> SharedAttempt {
                try? await clock.sleep(for: .seconds(7))
                return .failed(RedisError(.lockContention, "no token after 3 lock rounds"))
            }
        }
        let clock = TestClock()
        let refresher = refresher(clock: clock, shared: SlowStore(clock: clock))
        try await refresher.prime(timeout: .seconds(5))
        #expect(refresher.cache.servable(at: clock.now()) != nil)
        #expect(clock.now() - clock.start == 7)
    }

    /// A store that keeps handing back a token already due is asked again with backoff (from 100 ms, doubling), not
    /// in a tight loop: the exact schedule in the first 1.5 s.
    @Test func runBacksOffWhenTheSourceReturnsADueToken() async throws {
        let clock = TestClock(horizon: 1_000_000 + 1.5)
        let signer = self.signer
        let store = ScriptedStore(clock: clock) { _, now in .adopted(signer.mint(now: now - 239, ttl: 300)) }
        let refresher = refresher(clock: clock, shared: store)
        try await refresher.prime(timeout: .seconds(1))
        await run(refresher)
        let offsets = store.offsets
        #expect(offsets.count == 5, "\(offsets)")
        let gaps = zip(offsets.dropFirst(), offsets).map { $0 - $1 }
        // Each gap is drawn from [d/2, d] with d = 100 ms, 200 ms, 400 ms, 800 ms.
        for (gap, ceiling) in zip(gaps, [0.1, 0.2, 0.4, 0.8]) {
            #expect(gap >= ceiling / 2 - 0.001 && gap <= ceiling + 0.001, "\(offsets)")
        }
    }

    /// A degraded store is asked again once its backoff is over (1 s, doubling, jittered), not a window later, while
    /// the replica serves its own token; once it answers, the fleet's token is adopted and the refresh point rules.
    @Test func runAsksAgainEarlyWhenTheSourceWantsToRejoin() async throws {
        let clock = TestClock(horizon: 1_000_000 + 60)
        let signer = self.signer
        let fleet = signer.mint(now: 1_000_000 - 20, ttl: 300)
        let store = ScriptedStore(clock: clock) { call, _ in
            call <= 3 ? .failed(RedisError(.connect, "refused")) : .adopted(fleet)
        }
        let metrics = TokenMetrics(factory: NOOPMetricsHandler.instance)
        let refresher = refresher(clock: clock, shared: store, metrics: metrics)
        try await refresher.prime(timeout: .seconds(1))
        let own = try #require(refresher.cache.held)
        #expect(own != fleet)
        await run(refresher)
        let offsets = store.offsets
        #expect(offsets.count == 4, "asked at the start, after each of three backoffs, then not in the window")
        let gaps = zip(offsets.dropFirst(), offsets).map { $0 - $1 }
        for (gap, ceiling) in zip(gaps, [1.0, 2.0, 4.0]) {
            #expect(gap >= ceiling / 2 - 0.001 && gap <= ceiling + 0.001, "\(offsets)")
        }
        #expect(refresher.cache.held == fleet, "the fleet's token replaced the own, newer one")
        #expect(refresher.sharing == .ok)
        // The last sleep is the fleet token's refresh point, past the horizon.
        let last = try #require(clock.sleeps.last)
        #expect(last >= Double(fleet.expiresAt) - 144 && last <= Double(fleet.expiresAt) - 120)
    }

    @Test func aFailedRejoinKeepsServingTheHeldTokenWithoutMinting() async throws {
        let clock = TestClock(horizon: 1_000_000 + 100)
        let store = ScriptedStore(clock: clock) { _, _ in .failed(RedisError(.timeout, "frozen")) }
        let refresher = refresher(clock: clock, shared: store)
        try await refresher.prime(timeout: .seconds(1))
        let own = try #require(refresher.cache.held)
        await run(refresher)
        #expect(refresher.cache.held == own, "no new mint within its window")
        #expect(store.offsets.count >= 8 && store.offsets.count <= 11, "\(store.offsets)")
    }

    @Test func backoffGrowsWithJitterAndIsBounded() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        var delays: [Duration] = []
        for _ in 0..<10 { delays.append(backoff.next()) }
        #expect(delays[0] >= .milliseconds(50) && delays[0] <= .milliseconds(100))
        #expect(delays[3] >= .milliseconds(400) && delays[3] <= .milliseconds(800))
        #expect(delays.allSatisfy { $0 <= .seconds(1) })
        backoff.reset()
        #expect(backoff.next() <= .milliseconds(100))
        var zero = ZeroRandom()
        #expect(backoff.next(using: &zero) == .milliseconds(100))
    }
}
