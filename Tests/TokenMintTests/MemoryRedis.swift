import Synchronization

@testable import TokenMint

/// An in-memory ``RedisConnection`` with just the commands the shared store sends, a command log, failures on demand
/// and, given a clock, `PX` expiry and changes that appear at a given time (another replica's writes).
final class MemoryRedis: RedisConnection {
    struct State {
        var values: [String: String] = [:]
        /// Expiry times (the clock's seconds) of keys set with `PX`, when there is a clock.
        var expiries: [String: Double] = [:]
        var log: [[String]] = []
        var scriptLoaded = false
        var failure: RedisError?
        var replyOverride: RedisReply?
        /// Fails only the commands this accepts (with `failure`, or a timeout).
        var failWhen: (@Sendable ([String]) -> Bool)?
        /// Changes applied before the first command at or after their time.
        var scheduled: [(at: Double, change: @Sendable (inout [String: String]) -> Void)] = []
    }

    let state = Mutex(State())
    let clock: (any RefreshClock)?

    /// - Parameter clock: enables expiry and ``schedule(at:_:)``; without one, keys never expire.
    init(clock: (any RefreshClock)? = nil) {
        self.clock = clock
    }

    var log: [[String]] { state.withLock { $0.log } }
    var commands: [String] { log.map { $0[0] } }

    subscript(key: String) -> String? {
        get { state.withLock { $0.values[key] } }
        set { state.withLock { $0.values[key] = newValue } }
    }

    func fail(with error: RedisError?) { state.withLock { $0.failure = error } }
    func fail(when predicate: @escaping @Sendable ([String]) -> Bool) { state.withLock { $0.failWhen = predicate } }
    func override(with reply: RedisReply?) { state.withLock { $0.replyOverride = reply } }
    func schedule(at time: Double, _ change: @escaping @Sendable (inout [String: String]) -> Void) {
        state.withLock { $0.scheduled.append((time, change)) }
    }
    /// Forgets everything, as a restarted server without persistence.
    func flush() {
        state.withLock {
            $0.values = [:]
            $0.expiries = [:]
            $0.scriptLoaded = false
        }
    }

    func send(_ arguments: [String]) async throws -> RedisReply {
        let now = clock?.now()
        return try state.withLock { state in
            state.log.append(arguments)
            if let failure = state.failure { throw failure }
            if let failWhen = state.failWhen, failWhen(arguments) { throw RedisError(.timeout, "injected") }
            if let reply = state.replyOverride { return reply }
            if let now {
                for (at, change) in state.scheduled where at <= now { change(&state.values) }
                state.scheduled.removeAll { $0.at <= now }
                for (key, expiry) in state.expiries where expiry <= now {
                    state.values[key] = nil
                    state.expiries[key] = nil
                }
            }
            switch arguments[0] {
            case "GET":
                return state.values[arguments[1]].map { .bulk(Array($0.utf8)) } ?? .null
            case "SET":
                if arguments.contains("NX"), state.values[arguments[1]] != nil { return .null }
                state.values[arguments[1]] = arguments[2]
                state.expiries[arguments[1]] = nil
                if let now, let px = arguments.firstIndex(of: "PX"), let milliseconds = Double(arguments[px + 1]) {
                    state.expiries[arguments[1]] = now + milliseconds / 1000
                }
                return .status("OK")
            case "EVALSHA", "EVAL":
                if arguments[0] == "EVALSHA", !state.scriptLoaded { return .error("NOSCRIPT No matching script.") }
                state.scriptLoaded = true
                guard state.values[arguments[3]] == arguments[4] else { return .integer(0) }
                state.values[arguments[3]] = nil
                state.expiries[arguments[3]] = nil
                return .integer(1)
            default:
                return .error("ERR unknown command '\(arguments[0])'")
            }
        }
    }

    func close() async {}
}
