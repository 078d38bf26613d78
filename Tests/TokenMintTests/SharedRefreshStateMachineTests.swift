import Testing

@testable import TokenMint

/// The refresh decisions with a made-up clock and no I/O.
@Suite struct SharedRefreshStateMachineTests {
    let token = MiroToken(compact: "t", issuedAt: 1000, expiresAt: 1300)
    let t0 = ContinuousClock.now

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
        #expect(isWait(machine.readFinished(fresh: nil, now: t0 + .milliseconds(50))))
        #expect(machine.waitFinished() == .read)
        #expect(machine.readFinished(fresh: token, now: t0 + .milliseconds(100)) == .adopt(token))
    }

    @Test func aDeadWinnersLockIsTakenOverOnceItHasExpired() {
        var machine = machine()
        _ = machine.readFinished(fresh: nil, now: t0)
        _ = machine.lockFinished(taken: false, now: t0)
        _ = machine.waitFinished()
        // Still within the lock's 2 s: keep re-reading.
        #expect(isWait(machine.readFinished(fresh: nil, now: t0 + .milliseconds(2000))))
        _ = machine.waitFinished()
        // Past it: round 2 takes the lock.
        #expect(machine.readFinished(fresh: nil, now: t0 + .milliseconds(2060)) == .takeLock(owner: "me:2"))
        #expect(machine.lockFinished(taken: true, now: t0 + .milliseconds(2061)) == .read)
        #expect(machine.readFinished(fresh: nil, now: t0 + .milliseconds(2062)) == .mintAndStore(owner: "me:2"))
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
                now = now + delay
                action = machine.waitFinished()
            case .read: action = machine.readFinished(fresh: nil, now: now)
            case .giveUp(let error):
                #expect(error.kind == .lockContention)
                #expect(now - t0 >= .seconds(4) && now - t0 < .seconds(5))
                return
            default:
                Issue.record("unexpected \(action)")
                return
            }
        }
        Issue.record("never gave up")
    }
}
