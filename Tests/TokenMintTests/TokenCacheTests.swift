import Logging
import Metrics
import Synchronization
import Testing

@testable import TokenMint

@Suite struct TokenCacheTests {
    let timing = TokenTiming(ttlSeconds: 300, minRemainingSeconds: 60)

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

    /// A source that counts calls, waits a little (so concurrent callers overlap), and can be made to fail.
    final class CountingSource: TokenSource {
        let calls = Atomic<Int>(0)
        let failing = Atomic<Bool>(false)
        func nextToken(held: MiroToken?, now: Double) async throws -> MiroToken {
            let call = calls.add(1, ordering: .relaxed).newValue
            try await Task.sleep(for: .milliseconds(50))
            if failing.load(ordering: .relaxed) { throw SourceDown() }
            return MiroToken(compact: "token-\(call)", issuedAt: Int(now), expiresAt: Int(now) + 300)
        }
        struct SourceDown: Error {}
    }

    func refresher(_ source: some TokenSource) -> TokenRefresher {
        TokenRefresher(
            source: source,
            cache: TokenCache(timing: timing),
            metrics: TokenMetrics(factory: NOOPMetricsHandler.instance),
            logger: Logger(label: "test")
        )
    }

    /// Lets a refresher's background loop run for `duration`, then cancels it.
    func runRefresher(with source: some TokenSource, for duration: Duration) async throws {
        let refresher = refresher(source)
        let task = Task { await refresher.run() }
        try await Task.sleep(for: duration)
        task.cancel()
    }

    @Test func concurrentRefreshesCollapseIntoOne() async throws {
        let source = CountingSource()
        let refresher = refresher(source)
        let tokens = try await withThrowingTaskGroup(of: MiroToken.self) { group in
            for _ in 0..<50 { group.addTask { try await refresher.refresh() } }
            return try await group.reduce(into: [MiroToken]()) { $0.append($1) }
        }
        #expect(source.calls.load(ordering: .relaxed) == 1)
        #expect(Set(tokens.map(\.compact)) == ["token-1"])
        // A later refresh is a new flight.
        _ = try await refresher.refresh()
        #expect(source.calls.load(ordering: .relaxed) == 2)
    }

    @Test func failedRefreshKeepsServingTheHeldToken() async throws {
        let source = CountingSource()
        let refresher = refresher(source)
        try await refresher.prime(timeout: .seconds(1))
        source.failing.store(true, ordering: .relaxed)
        await #expect(throws: CountingSource.SourceDown.self) { try await refresher.refresh() }
        #expect(refresher.cache.held?.compact == "token-1")
    }

    @Test func primeGivesUpAfterItsTimeout() async throws {
        let source = CountingSource()
        source.failing.store(true, ordering: .relaxed)
        let refresher = refresher(source)
        let clock = ContinuousClock()
        let started = clock.now
        // Generous bounds: the whole suite runs in parallel on two cores, so a single attempt can take a while.
        await #expect(throws: CountingSource.SourceDown.self) { try await refresher.prime(timeout: .seconds(3)) }
        #expect(clock.now - started < .seconds(6))
        #expect(source.calls.load(ordering: .relaxed) >= 2)  // it retried
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
    }

    @Test func runRefreshesAheadOfExpiry() async throws {
        // A held token whose refresh point (MIN + 25..35 % of the window before expiry) has already passed.
        let source = CountingSource()
        let refresher = refresher(source)
        refresher.cache.store(MiroToken(compact: "due", issuedAt: 0, expiresAt: Int(UnixTime.now()) + 61))
        let task = Task { await refresher.run() }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(5)
        while refresher.cache.held?.compact == "due", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(refresher.cache.held?.compact == "token-1")
    }

    /// A source that keeps handing back a token that is already due must be asked again with backoff, not in a
    /// tight loop.
    @Test func runBacksOffWhenTheSourceReturnsADueToken() async throws {
        final class StaleSource: TokenSource {
            let calls = Atomic<Int>(0)
            func nextToken(held: MiroToken?, now: Double) async throws -> MiroToken {
                calls.add(1, ordering: .relaxed)
                return MiroToken(compact: "stale", issuedAt: Int(now) - 239, expiresAt: Int(now) + 61)
            }
        }
        let source = StaleSource()
        try await runRefresher(with: source, for: .milliseconds(1500))
        let calls = source.calls.load(ordering: .relaxed)
        // Backoff from 100 ms doubling allows about 5 calls in 1.5 s; a loop without it makes thousands.
        #expect(calls >= 2)
        #expect(calls <= 10, "refreshed \(calls) times in 1.5 s")
    }

    @Test func runAsksAgainEarlyWhenTheSourceWantsToRejoin() async throws {
        /// Hands back a fresh token each time, and wants to be asked again in 100 ms for its first three calls (a
        /// degraded shared store waiting for Redis), then not before the refresh time.
        final class RejoiningSource: TokenSource {
            let calls = Atomic<Int>(0)
            func nextToken(held: MiroToken?, now: Double) async throws -> MiroToken {
                calls.add(1, ordering: .relaxed)
                return held ?? MiroToken(compact: "fresh", issuedAt: Int(now), expiresAt: Int(now) + 300)
            }
            var rejoinDelay: Duration? { calls.load(ordering: .relaxed) < 3 ? .milliseconds(100) : nil }
        }
        let source = RejoiningSource()
        try await runRefresher(with: source, for: .milliseconds(1500))
        // Without the rejoin hint the 300 s token would be refreshed once in 1.5 s; with it, three times, then the
        // refresh time (minutes away) rules again.
        #expect(source.calls.load(ordering: .relaxed) == 3)
    }
}
