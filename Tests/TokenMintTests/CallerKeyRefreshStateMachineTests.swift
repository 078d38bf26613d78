import Testing

@testable import TokenMint

/// The key refresh's decisions, with the clock in the test's hands and no I/O.
@Suite struct CallerKeyRefreshStateMachineTests {
    typealias Machine = CallerKeyRefreshStateMachine

    @Test func firstFetchIsDueAtOnceThenEveryInterval() {
        var machine = Machine(refreshSeconds: 300, now: 1000)
        #expect(machine.health == .loading)
        #expect(machine.keySetAge(at: 1000) == nil)
        #expect(machine.background(at: 1000) == .fetch)
        // Single flight: while it runs, nothing else starts.
        #expect(machine.background(at: 1001) == .sleep(until: 1001))
        #expect(machine.unknownKID(at: 1001) == .join)
        #expect(machine.fetchSucceeded(at: 1002) == .init(logChange: .fresh))
        #expect(machine.health == .fresh)
        #expect(machine.background(at: 1100) == .sleep(until: 1302))
        #expect(machine.keySetAge(at: 1100) == 98)
        #expect(machine.background(at: 1302) == .fetch)
        // A second success in a row is not worth a log line.
        #expect(machine.fetchSucceeded(at: 1303) == .init(logChange: nil))
    }

    @Test func failuresBeforeTheFirstSuccessAreLoggedOnceAndBackOff() {
        var machine = Machine(refreshSeconds: 300, now: 0)
        var now = 0.0
        var delays: [Double] = []
        for attempt in 1...9 {
            #expect(machine.background(at: now) == .fetch)
            let outcome = machine.fetchFailed(at: now, jitter: 0.5)
            #expect(outcome.logChange == (attempt == 1 ? .loading : nil), "attempt \(attempt)")
            guard case .sleep(let until) = machine.background(at: now) else {
                Issue.record("no sleep after a failure")
                return
            }
            delays.append(until - now)
            now = until
        }
        #expect(delays == [1, 2, 4, 8, 16, 32, 60, 60, 60])
        #expect(machine.health == .loading)
        #expect(machine.consecutiveFailures == 9)
        // Jitter stays within ±20 %.
        var jittered = Machine(refreshSeconds: 300, now: 0)
        _ = jittered.background(at: 0)
        _ = jittered.fetchFailed(at: 0, jitter: 1)
        guard case .sleep(let until) = jittered.background(at: 0) else {
            Issue.record("no sleep after a failure")
            return
        }
        #expect(abs(until - 1.2) < 1e-9)
    }

    /// A new CA bundle makes the next fetch due at once, with the backoff started over; it does not start a fetch
    /// of its own while one is in flight.
    @Test func aTrustChangeEndsTheBackoff() {
        var machine = Machine(refreshSeconds: 300, now: 0)
        var now = 0.0
        for delay in [1.0, 2, 4, 8, 16, 0] {
            #expect(machine.background(at: now) == .fetch)
            _ = machine.fetchFailed(at: now, jitter: 0.5)
            now += delay
        }
        // The sixth failure set 32 s of backoff; one second later, a new CA bundle arrives.
        let failedAt = now
        now += 1
        #expect(machine.background(at: now) == .sleep(until: failedAt + 32))
        machine.trustChanged(at: now)
        #expect(machine.consecutiveFailures == 0)
        #expect(machine.background(at: now) == .fetch)
        machine.trustChanged(at: now)
        #expect(machine.background(at: now) == .sleep(until: now), "the fetch in flight is not doubled")
        _ = machine.fetchFailed(at: now, jitter: 0.5)
        #expect(machine.background(at: now) == .sleep(until: now + 1), "the backoff starts over")
    }

    @Test func backoffNeverExceedsTheRefreshInterval() {
        var machine = Machine(refreshSeconds: 5, now: 0)
        for _ in 1...6 {
            _ = machine.background(at: 0)
            _ = machine.fetchFailed(at: 0, jitter: 0.5)
        }
        #expect(machine.background(at: 0) == .sleep(until: 5))
    }

    @Test func staleIfErrorLogsOncePerStateChange() {
        var machine = Machine(refreshSeconds: 300, now: 0)
        _ = machine.background(at: 0)
        #expect(machine.fetchSucceeded(at: 0).logChange == .fresh)
        _ = machine.background(at: 300)
        #expect(machine.fetchFailed(at: 300).logChange == .stale)
        #expect(machine.health == .stale)
        #expect(machine.lastSuccess == 0)
        _ = machine.background(at: 400)
        #expect(machine.fetchFailed(at: 400).logChange == nil)
        _ = machine.background(at: 500)
        #expect(machine.fetchSucceeded(at: 500).logChange == .fresh)
        _ = machine.background(at: 800)
        #expect(machine.fetchFailed(at: 800).logChange == .stale)
    }

    @Test func rediscoversAfterRepeatedFailures() {
        var machine = Machine(refreshSeconds: 300, now: 0)
        var rediscovered: [Int] = []
        for attempt in 1...7 {
            _ = machine.background(at: Double(attempt) * 100)
            if machine.fetchFailed(at: Double(attempt) * 100).rediscover { rediscovered.append(attempt) }
        }
        #expect(rediscovered == [3, 6])
    }

    @Test func unknownKIDsFetchAtMostOncePerThirtySeconds() {
        var machine = Machine(refreshSeconds: 300, now: 0)
        _ = machine.background(at: 0)
        _ = machine.fetchSucceeded(at: 0)
        var fetches = 0
        var joins = 0
        // A flood: a request every 10 ms for two minutes, each fetch taking 200 ms.
        var fetchEndsAt: Double?
        for step in 0..<12_000 {
            let now = 1 + Double(step) * 0.01
            if let end = fetchEndsAt, now >= end {
                _ = machine.fetchSucceeded(at: now)
                fetchEndsAt = nil
            }
            switch machine.unknownKID(at: now) {
            case .fetch:
                fetches += 1
                fetchEndsAt = now + 0.2
            case .join: joins += 1
            case .answerNow: break
            }
        }
        #expect(fetches == 4)  // at 1, 31, 61, 91 s
        // The requests during each 200 ms fetch join it.
        #expect(joins >= 4 * 19 && joins <= 4 * 21)
    }

    @Test func anUnknownKIDFetchPostponesTheBackgroundRefresh() {
        var machine = Machine(refreshSeconds: 300, now: 0)
        _ = machine.background(at: 0)
        _ = machine.fetchSucceeded(at: 0)
        #expect(machine.unknownKID(at: 200) == .fetch)
        _ = machine.fetchSucceeded(at: 201)
        #expect(machine.background(at: 300) == .sleep(until: 501))
        // A failed unknown-kid fetch is a failure like any other: stale, retried with backoff.
        #expect(machine.unknownKID(at: 240) == .fetch)
        #expect(machine.fetchFailed(at: 240, jitter: 0.5).logChange == .stale)
        #expect(machine.background(at: 240) == .sleep(until: 241))
    }
}
