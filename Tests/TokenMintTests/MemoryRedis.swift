import Synchronization

@testable import TokenMint

/// An in-memory ``RedisConnection`` with just the commands the shared store sends, a command log, and failures on
/// demand. Expiry is ignored: tests that need a lock to expire delete it themselves.
final class MemoryRedis: RedisConnection {
    struct State {
        var values: [String: String] = [:]
        var log: [[String]] = []
        var scriptLoaded = false
        var failure: RedisError?
        var replyOverride: RedisReply?
        /// Fails only the commands this accepts (with `failure`, or a timeout).
        var failWhen: (@Sendable ([String]) -> Bool)?
    }

    let state = Mutex(State())

    var log: [[String]] { state.withLock { $0.log } }
    var commands: [String] { log.map { $0[0] } }

    subscript(key: String) -> String? {
        get { state.withLock { $0.values[key] } }
        set { state.withLock { $0.values[key] = newValue } }
    }

    func fail(with error: RedisError?) { state.withLock { $0.failure = error } }
    func fail(when predicate: @escaping @Sendable ([String]) -> Bool) { state.withLock { $0.failWhen = predicate } }
    func override(with reply: RedisReply?) { state.withLock { $0.replyOverride = reply } }

    func send(_ arguments: [String]) async throws -> RedisReply {
        try state.withLock { state in
            state.log.append(arguments)
            if let failure = state.failure { throw failure }
            if let failWhen = state.failWhen, failWhen(arguments) { throw RedisError(.timeout, "injected") }
            if let reply = state.replyOverride { return reply }
            switch arguments[0] {
            case "GET":
                return state.values[arguments[1]].map { .bulk(Array($0.utf8)) } ?? .null
            case "SET":
                if arguments.contains("NX"), state.values[arguments[1]] != nil { return .null }
                state.values[arguments[1]] = arguments[2]
                return .status("OK")
            case "EVALSHA", "EVAL":
                if arguments[0] == "EVALSHA", !state.scriptLoaded { return .error("NOSCRIPT No matching script.") }
                state.scriptLoaded = true
                guard state.values[arguments[3]] == arguments[4] else { return .integer(0) }
                state.values[arguments[3]] = nil
                return .integer(1)
            default:
                return .error("ERR unknown command '\(arguments[0])'")
            }
        }
    }

    func close() async {}
}
