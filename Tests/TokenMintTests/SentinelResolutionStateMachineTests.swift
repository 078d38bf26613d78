import Testing

@testable import TokenMint

/// Finding the primary through the sentinels, decision by decision, with made-up replies.
@Suite struct SentinelResolutionStateMachineTests {
    let primary = RedisNodeAddress(host: "10.0.0.5", port: 6379)
    let promoted = RedisNodeAddress(host: "10.0.0.6", port: 6379)

    func named(_ address: RedisNodeAddress) -> Result<RedisReply, RedisError> {
        .success(.array([.bulk(Array(address.host.utf8)), .bulk(Array("\(address.port)".utf8))]))
    }

    let master: Result<RedisReply, RedisError> = .success(
        .array([.bulk(Array("master".utf8)), .integer(42), .array([])])
    )
    let replica: Result<RedisReply, RedisError> = .success(
        .array([.bulk(Array("slave".utf8)), .bulk(Array("10.0.0.6".utf8)), .integer(6379)])
    )
    let down: Result<RedisReply, RedisError> = .failure(RedisError(.connect, "connection refused"))

    @Test func theFirstSentinelNamesAPrimaryThatConfirms() {
        var machine = SentinelResolutionStateMachine(masterName: "mymaster", sentinelCount: 3)
        #expect(machine.start() == .askSentinel(0))
        #expect(machine.question == ["SENTINEL", "get-master-addr-by-name", "mymaster"])
        #expect(machine.sentinelAnswered(named(primary)) == .confirm(primary))
        #expect(machine.roleAnswered(master) == .use(primary, sentinel: 0))
    }

    @Test func theSentinelThatAnsweredLastIsAskedFirstAndTheOthersInTurn() {
        var machine = SentinelResolutionStateMachine(masterName: "mymaster", sentinelCount: 3, firstSentinel: 2)
        #expect(machine.start() == .askSentinel(2))
        #expect(machine.sentinelAnswered(down) == .askSentinel(0))
        #expect(machine.sentinelAnswered(.success(.null)) == .askSentinel(1))
        #expect(machine.sentinelAnswered(named(promoted)) == .confirm(promoted))
        #expect(machine.roleAnswered(master) == .use(promoted, sentinel: 1))
    }

    @Test func aNamedNodeThatIsAReplicaMeansAskingTheNextSentinel() {
        var machine = SentinelResolutionStateMachine(masterName: "mymaster", sentinelCount: 2)
        _ = machine.start()
        #expect(machine.sentinelAnswered(named(primary)) == .confirm(primary))
        #expect(machine.roleAnswered(replica) == .askSentinel(1))
        #expect(machine.sentinelAnswered(named(promoted)) == .confirm(promoted))
        #expect(machine.roleAnswered(master) == .use(promoted, sentinel: 1))
    }

    /// Mid-failover every sentinel still names the dead primary: it is connected to once, not once per sentinel.
    @Test func aDeadPrimaryIsTriedOncePerResolutionThenItFails() {
        var machine = SentinelResolutionStateMachine(masterName: "mymaster", sentinelCount: 3)
        _ = machine.start()
        #expect(machine.sentinelAnswered(named(primary)) == .confirm(primary))
        #expect(machine.roleAnswered(down) == .askSentinel(1))
        #expect(machine.sentinelAnswered(named(primary)) == .askSentinel(2))
        guard case .fail(let error) = machine.sentinelAnswered(named(primary)) else {
            Issue.record("did not fail")
            return
        }
        #expect(error.kind == .connect)
        #expect(error.detail.contains("10.0.0.5:6379"))
        #expect(error.detail.contains("mymaster"))
    }

    @Test func everySentinelDownFailsAfterAskingEachOnce() {
        var machine = SentinelResolutionStateMachine(masterName: "mymaster", sentinelCount: 3)
        var asked: [Int] = []
        var action = machine.start()
        while case .askSentinel(let index) = action {
            asked.append(index)
            action = machine.sentinelAnswered(down)
        }
        #expect(asked == [0, 1, 2])
        guard case .fail = action else {
            Issue.record("\(action)")
            return
        }
    }

    @Test(arguments: [
        RedisReply.error("ERR unknown command"), .array([.bulk(Array("host".utf8))]), .bulk(Array("x".utf8)),
        .array([.bulk(Array("host".utf8)), .bulk(Array("port".utf8))]), .array([]),
    ])
    func anAnswerThatNamesNoPrimaryMovesOn(reply: RedisReply) {
        var machine = SentinelResolutionStateMachine(masterName: "mymaster", sentinelCount: 2)
        _ = machine.start()
        #expect(machine.sentinelAnswered(.success(reply)) == .askSentinel(1))
    }

    @Test func theRoleOfAReply() {
        #expect(SentinelResolutionStateMachine.role(of: try! master.get()) == "master")
        #expect(SentinelResolutionStateMachine.role(of: try! replica.get()) == "slave")
        #expect(SentinelResolutionStateMachine.role(of: .status("OK")) == nil)
    }

    @Test(arguments: [
        ("READONLY You can't write against a read only replica.", true),
        ("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", true),
        ("ERR unknown command", false), ("NOSCRIPT No matching script", false), ("WRONGTYPE", false),
    ])
    func whichRepliesMeanAskingTheSentinelsAgain(message: String, asksAgain: Bool) {
        #expect(SentinelResolutionStateMachine.asksAgain(after: .error(message)) == asksAgain)
        #expect(!SentinelResolutionStateMachine.asksAgain(after: .status("OK")))
    }
}
