import Testing

@testable import TokenMint

/// Every refresh decision with made-up times and no I/O. With ``ZeroRandom`` each refresh point is at 25 % of the
/// window (MIN + 60 s before `exp`: 120 s) and each backoff at half its ceiling, so schedules are exact.
@Suite struct RefreshPolicyTests {
    let timing = TokenTiming(ttlSeconds: 300, minRemainingSeconds: 60)
    let t0 = 1_000_000.0

    func token(_ name: String, issuedAt: Double) -> MiroToken {
        MiroToken(compact: name, issuedAt: Int(issuedAt), expiresAt: Int(issuedAt) + 300)
    }

    @Test func withoutAStoreEveryTokenIsMintedHereAtItsRefreshPoint() {
        var policy = RefreshPolicy(timing: timing, shared: false)
        var random = ZeroRandom()
        #expect(policy.next(now: t0, held: nil, after: .woke, using: &random) == .mintLocally)
        let first = token("first", issuedAt: t0)
        #expect(policy.next(now: t0, held: nil, after: .minted(first), using: &random) == .adopt(first))
        #expect(policy.next(now: t0, held: first, after: .adopted, using: &random) == .sleep(until: t0 + 180))
        // Woken early (or spuriously): sleep on.
        #expect(policy.next(now: t0 + 100, held: first, after: .woke, using: &random) == .sleep(until: t0 + 180))
        #expect(policy.next(now: t0 + 180, held: first, after: .woke, using: &random) == .mintLocally)
        #expect(policy.sharing == .disabled)
    }

    @Test func aStoreIsAskedFirstAndItsTokenAdopted() {
        var policy = RefreshPolicy(timing: timing, shared: true)
        var random = ZeroRandom()
        #expect(policy.sharing == .unknown)
        #expect(policy.next(now: t0, held: nil, after: .woke, using: &random) == .tryShared)
        let fleet = token("fleet", issuedAt: t0 - 10)
        #expect(policy.next(now: t0, held: nil, after: .shared(.adopted(fleet)), using: &random) == .adopt(fleet))
        #expect(policy.sharing == .ok)
        #expect(policy.next(now: t0, held: fleet, after: .adopted, using: &random) == .sleep(until: t0 + 170))
        #expect(policy.next(now: t0 + 170, held: fleet, after: .woke, using: &random) == .tryShared)
        let next = token("next", issuedAt: t0 + 170)
        #expect(policy.next(now: t0 + 170, held: fleet, after: .shared(.stored(next)), using: &random) == .adopt(next))
    }

    /// Redis down at cold start: one attempt, a local token, and the rejoin attempts spaced by one backoff (1 s
    /// doubling to 30 s, at half with this generator) while the own token is served; the fleet's token is adopted
    /// the moment Redis answers, although the own token is newer.
    /// A secret reload starts a new refresher beside the token the old one served: it asks the store at once (a new
    /// connection, a new password) rather than sleeping until that token's refresh point.
    @Test func aStoreNotAskedYetIsAskedBeforeTheHeldTokenIsDue() {
        var policy = RefreshPolicy(timing: timing, shared: true)
        var random = ZeroRandom()
        let held = token("held", issuedAt: t0 - 10)
        #expect(policy.next(now: t0, held: held, after: .woke, using: &random) == .tryShared)
        #expect(policy.next(now: t0, held: held, after: .shared(.adopted(held)), using: &random) == .adopt(held))
        #expect(policy.sharing == .ok)
        #expect(policy.next(now: t0, held: held, after: .adopted, using: &random) == .sleep(until: t0 + 170))
    }

    @Test func anOutageHasOneBackoffAndTheReplicaRejoinsAtOnceWhenItEnds() {
        var policy = RefreshPolicy(timing: timing, shared: true)
        var random = ZeroRandom()
        let down = RedisError(.connect, "refused")
        _ = policy.next(now: t0, held: nil, after: .woke, using: &random)
        #expect(policy.next(now: t0, held: nil, after: .shared(.failed(down)), using: &random) == .mintLocally)
        #expect(policy.sharing == .degraded)
        #expect(policy.lastFailure == down)
        let own = token("own", issuedAt: t0)
        _ = policy.next(now: t0, held: nil, after: .minted(own), using: &random)
        var now = t0
        var attempts: [Double] = []
        var action = policy.next(now: now, held: own, after: .adopted, using: &random)
        for _ in 0..<9 {
            guard case .sleep(let until) = action else {
                Issue.record("expected a sleep, got \(action)")
                return
            }
            now = until
            #expect(policy.next(now: now, held: own, after: .woke, using: &random) == .tryShared)
            attempts.append(now - t0)
            action = policy.next(now: now, held: own, after: .shared(.failed(down)), using: &random)
        }
        // 0.5, then +1, +2, +4, +8, +15 (the 30 s ceiling at half), +15 ...; the own token is never re-minted.
        #expect(attempts == [0.5, 1.5, 3.5, 7.5, 15.5, 30.5, 45.5, 60.5, 75.5])
        let fleet = token("fleet", issuedAt: t0 - 30)
        guard case .sleep(let until) = action else { return }
        #expect(policy.next(now: until, held: own, after: .woke, using: &random) == .tryShared)
        #expect(policy.next(now: until, held: own, after: .shared(.adopted(fleet)), using: &random) == .adopt(fleet))
        #expect(policy.sharing == .ok)
        #expect(policy.lastFailure == nil)
        #expect(policy.next(now: until, held: fleet, after: .adopted, using: &random) == .sleep(until: t0 - 30 + 180))
        // The backoff starts over at the next outage.
        let later = t0 + 150
        _ = policy.next(now: later, held: fleet, after: .woke, using: &random)
        _ = policy.next(now: later, held: fleet, after: .shared(.failed(down)), using: &random)
        #expect(policy.rejoinAt == later + 0.5)
    }

    @Test func whileBackingOffADueTokenIsReplacedByALocalMint() {
        var policy = RefreshPolicy(timing: timing, shared: true)
        var random = ZeroRandom()
        let down = RedisError(.timeout, "frozen")
        let fleet = token("fleet", issuedAt: t0)
        _ = policy.next(now: t0 + 180, held: fleet, after: .woke, using: &random)
        // Due, and the store fails: mint here.
        #expect(policy.next(now: t0 + 180, held: fleet, after: .shared(.failed(down)), using: &random) == .mintLocally)
        let own = token("own", issuedAt: t0 + 180)
        _ = policy.next(now: t0 + 180, held: fleet, after: .minted(own), using: &random)
        #expect(policy.next(now: t0 + 180, held: own, after: .adopted, using: &random) == .sleep(until: t0 + 180.5))
        // Due again while still backing off (a long outage): mint here without asking the store.
        var policy2 = RefreshPolicy(timing: timing, shared: true)
        _ = policy2.next(now: t0, held: fleet, after: .woke, using: &random)
        _ = policy2.next(now: t0 + 180, held: fleet, after: .shared(.failed(down)), using: &random)
        #expect(policy2.rejoinAt == t0 + 180.5)
        let stale = token("stale", issuedAt: t0 - 200)
        #expect(policy2.next(now: t0 + 180.1, held: stale, after: .woke, using: &random) == .mintLocally)
    }

    @Test func aTokenMintedUnderTheLockButNotStoredIsServedAndDegrades() {
        var policy = RefreshPolicy(timing: timing, shared: true)
        var random = ZeroRandom()
        let minted = token("minted", issuedAt: t0)
        let failure = RedisError(.timeout, "store")
        _ = policy.next(now: t0, held: nil, after: .woke, using: &random)
        #expect(
            policy.next(now: t0, held: nil, after: .shared(.storeFailed(minted, failure)), using: &random)
                == .adopt(minted)
        )
        #expect(policy.sharing == .degraded)
        #expect(policy.next(now: t0, held: minted, after: .adopted, using: &random) == .sleep(until: t0 + 0.5))
    }

    /// A store that keeps handing back a token already due is asked again after 50 ms, 100 ms, 200 ms ... up to
    /// 2.5 s (the 5 s ceiling at half): never in a tight loop.
    @Test func aDueTokenFromTheStoreIsAskedAgainWithBackoff() {
        var policy = RefreshPolicy(timing: timing, shared: true)
        var random = ZeroRandom()
        var now = t0
        var gaps: [Double] = []
        for _ in 0..<8 {
            let due = token("due-\(now)", issuedAt: now - 239)
            #expect(policy.next(now: now, held: nil, after: .woke, using: &random) == .tryShared)
            _ = policy.next(now: now, held: nil, after: .shared(.adopted(due)), using: &random)
            guard case .sleep(let until) = policy.next(now: now, held: due, after: .adopted, using: &random) else {
                Issue.record("no sleep")
                return
            }
            gaps.append(((until - now) * 1000).rounded())
            now = until
        }
        #expect(gaps == [50, 100, 200, 400, 800, 1600, 2500, 2500])
    }

    /// Whatever the outcomes, a sleep comes within four actions: nothing spins.
    @Test func aSleepComesWithinFourActionsWhateverHappens() {
        var random = SeededRandom(seed: 7)
        var policy = RefreshPolicy(timing: timing, shared: true)
        var now = t0
        var held: MiroToken?
        var outcome = RefreshPolicy.Outcome.woke
        var sinceSleep = 0
        for step in 0..<10_000 {
            let action = policy.next(now: now, held: held, after: outcome, using: &random)
            sinceSleep += 1
            switch action {
            case .sleep(let until):
                #expect(until > now || step == 0, "a sleep into the past at step \(step)")
                now = max(now, until)
                sinceSleep = 0
                outcome = .woke
            case .tryShared:
                let choice = random.next() % 4
                let fresh = token("s\(step)", issuedAt: now - Double(random.next() % 300))
                switch choice {
                case 0: outcome = .shared(.adopted(fresh))
                case 1: outcome = .shared(.stored(token("m\(step)", issuedAt: now)))
                case 2: outcome = .shared(.storeFailed(token("u\(step)", issuedAt: now), RedisError(.io, "x")))
                default: outcome = .shared(.failed(RedisError(.connect, "x")))
                }
            case .mintLocally:
                outcome = .minted(token("l\(step)", issuedAt: now))
            case .adopt(let token):
                held = token
                outcome = .adopted
            }
            #expect(sinceSleep <= 4, "no sleep for \(sinceSleep) actions at step \(step)")
            if sinceSleep > 4 { return }
        }
        #expect(now > t0 + 3600, "time moved on: \(now - t0) s")
    }
}
