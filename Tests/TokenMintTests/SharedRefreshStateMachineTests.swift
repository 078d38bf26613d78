import Testing

@testable import TokenMint

/// The refresh decisions with a made-up clock and no I/O.
@Suite struct SharedRefreshStateMachineTests {
    let token = MiroToken(compact: "t", issuedAt: 1000, expiresAt: 1300)
    let t0 = 1_000_000.0

    func machine() -> SharedRefreshStateMachine { SharedRefreshStateMachine(owner: "me") }

    func isWait(_ action: SharedRefreshStateMachine.Action) -> Bool {
        if case .wait(let delay) = action { return delay >= .milliseconds(40) && delay <= .milliseconds(60) }
        return false
    }

    @Test func aFreshTokenIsAdoptedAfterOneRead() {
        var machine = machine()
        #expect(machine.start() == .read)
        #expect(machine.readFinished(fresh: token, now: t0) == .adopt(token))
    }

    @Test func theWinnerReadsAgainUnderTheLockThenMints() {
        var machine = machine()
        #expect(machine.readFinished(fresh: nil, now: t0) == .takeLock(owner: "me:1"))
        #expect(machine.lockFinished(taken: true, now: t0) == .read)
        #expect(machine.readFinished(fresh: nil, now: t0) == .mintAndStore(owner: "me:1"))
    }

    @Test func aTokenStoredBetweenGETAndLockIsAdoptedAndTheLockReleased() {
        var machine = machine()
        _ = machine.readFinished(fresh: nil, now: t0)
        _ = machine.lockFinished(taken: true, now: t0)
        #expect(machine.readFinished(fresh: token, now: t0) == .releaseAndAdopt(token, owner: "me:1"))
    }

    @Test func aLoserRereadsAbout50msApartAndAdoptsTheWinnersToken() {
        var machine = machine()
        _ = machine.readFinished(fresh: nil, now: t0)
        #expect(isWait(machine.lockFinished(taken: false, now: t0)))
        #expect(machine.waitFinished() == .read)
        #expect(isWait(machine.readFinished(fresh: nil, now: t0 + 0.05)))
        #expect(machine.waitFinished() == .read)
        #expect(machine.readFinished(fresh: token, now: t0 + 0.1) == .adopt(token))
    }

    @Test func aDeadWinnersLockIsTakenOverOnceItHasExpired() {
        var machine = machine()
        _ = machine.readFinished(fresh: nil, now: t0)
        _ = machine.lockFinished(taken: false, now: t0)
        _ = machine.waitFinished()
        // Still within the lock's 2 s: keep re-reading.
        #expect(isWait(machine.readFinished(fresh: nil, now: t0 + 2.0)))
        _ = machine.waitFinished()
        // Past it: round 2 takes the lock.
        #expect(machine.readFinished(fresh: nil, now: t0 + 2.06) == .takeLock(owner: "me:2"))
        #expect(machine.lockFinished(taken: true, now: t0 + 2.061) == .read)
        #expect(machine.readFinished(fresh: nil, now: t0 + 2.062) == .mintAndStore(owner: "me:2"))
    }

    @Test func everyRoundLostGivesUpAsARedisFailure() {
        var machine = SharedRefreshStateMachine(owner: "me", maximumRounds: 2)
        var now = t0
        var action = machine.readFinished(fresh: nil, now: now)
        var steps = 0
        while steps < 1000 {
            steps += 1
            switch action {
            case .takeLock: action = machine.lockFinished(taken: false, now: now)
            case .wait(let delay):
                now += delay.seconds
                action = machine.waitFinished()
            case .read: action = machine.readFinished(fresh: nil, now: now)
            case .giveUp(let error):
                #expect(error.kind == .lockContention)
                #expect(now - t0 >= 4 && now - t0 < 5)
                return
            default:
                Issue.record("unexpected \(action)")
                return
            }
        }
        Issue.record("never gave up")
    }

    /// Should the clock stand still (or step back), a lost round still ends after a bounded number of re-reads.
    @Test func aLostRoundEndsAfterBoundedRereadsEvenIfTimeStandsStill() {
        var machine = SharedRefreshStateMachine(owner: "me", maximumRounds: 1)
        _ = machine.readFinished(fresh: nil, now: t0)
        var action = machine.lockFinished(taken: false, now: t0)
        var waits = 0
        while case .wait = action, waits < 1000 {
            waits += 1
            _ = machine.waitFinished()
            action = machine.readFinished(fresh: nil, now: t0)
        }
        #expect(waits == machine.maximumRereads + 1)
        #expect(action == .giveUp(RedisError(.lockContention, "no token after 1 lock rounds")))
    }
}
