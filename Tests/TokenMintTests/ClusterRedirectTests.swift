import Testing

@testable import TokenMint

/// `MOVED`, `ASK`, `CLUSTERDOWN` and the redirect bound, with made-up replies.
@Suite struct ClusterRedirectTests {
    let seed = RedisNodeAddress(host: "127.0.0.1", port: 7000)
    let owner = RedisNodeAddress(host: "127.0.0.1", port: 7001)
    let importing = RedisNodeAddress(host: "127.0.0.1", port: 7002)

    @Test func movedAndAskAreParsed() {
        #expect(ClusterRedirect.parse(.error("MOVED 3999 127.0.0.1:7001"), from: seed) == .moved(slot: 3999, to: owner))
        #expect(ClusterRedirect.parse(.error("ASK 3999 127.0.0.1:7002"), from: seed) == .ask(slot: 3999, to: importing))
        // Redis 7 leaves the host out when it is unknown: the node that answered.
        #expect(ClusterRedirect.parse(.error("MOVED 12 :7001"), from: seed) == .moved(slot: 12, to: owner))
        #expect(
            ClusterRedirect.parse(.error("MOVED 12 [::1]:7001"), from: seed)
                == .moved(slot: 12, to: RedisNodeAddress(host: "::1", port: 7001))
        )
    }

    @Test(arguments: [
        "CLUSTERDOWN The cluster is down", "TRYAGAIN Multiple keys request during rehashing of slot",
    ])
    func clusterDownAndTryAgainAreUnavailable(message: String) {
        guard case .unavailable = ClusterRedirect.parse(.error(message), from: seed) else {
            Issue.record("\(message) not unavailable")
            return
        }
    }

    @Test(arguments: [
        "ERR unknown command", "MOVED", "MOVED x 127.0.0.1:7001", "MOVED 16384 127.0.0.1:7001", "MOVED 1 host",
        "ASK 1 127.0.0.1:0", "MOVEDX 1 127.0.0.1:7001",
    ])
    func otherErrorsAreNoRedirect(message: String) {
        #expect(ClusterRedirect.parse(.error(message), from: seed) == nil)
        #expect(ClusterRedirect.parse(.status("OK"), from: seed) == nil)
    }

    @Test func movedIsFollowedAndRemembered() {
        var machine = ClusterRoutingStateMachine()
        #expect(machine.start(at: seed) == .send(to: seed, asking: false))
        #expect(machine.replied(.error("MOVED 3999 127.0.0.1:7001"), from: seed) == .send(to: owner, asking: false))
        #expect(machine.learnedNode == owner)
        #expect(machine.replied(.bulk([1]), from: owner) == .answer(.bulk([1])))
        #expect(machine.redirects == 1)
    }

    @Test func askSendsASKINGOnceAndIsNotRemembered() {
        var machine = ClusterRoutingStateMachine()
        _ = machine.start(at: owner)
        #expect(machine.replied(.error("ASK 3999 127.0.0.1:7002"), from: owner) == .send(to: importing, asking: true))
        #expect(machine.learnedNode == nil)
        #expect(machine.replied(.null, from: importing) == .answer(.null))
    }

    @Test func redirectsAreBounded() {
        var machine = ClusterRoutingStateMachine(maximumRedirects: 3)
        var node = seed
        var action = machine.start(at: node)
        var hops = 0
        while case .send(let next, _) = action {
            node = next
            hops += 1
            let other = node == seed ? owner : seed
            action = machine.replied(.error("MOVED 1 \(other)"), from: node)
            if hops > 10 { break }
        }
        #expect(hops == 4, "the first send and three redirects")
        guard case .fail(let error) = action else {
            Issue.record("\(action)")
            return
        }
        #expect(error.kind == .reply)
    }

    @Test func clusterDownFailsTheCall() {
        var machine = ClusterRoutingStateMachine()
        _ = machine.start(at: seed)
        guard case .fail(let error) = machine.replied(.error("CLUSTERDOWN Hash slot not served"), from: seed) else {
            Issue.record("CLUSTERDOWN answered")
            return
        }
        #expect(error.detail.contains("CLUSTERDOWN"))
    }
}
