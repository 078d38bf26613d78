/// Finding the primary through Redis Sentinel, as a state machine with no I/O: which sentinel to ask next, whether
/// its answer names a primary, whether `ROLE` confirms it, and when to give up. ``SentinelRedisConnection`` (in
/// `TokenMintRedis`) performs each action.
///
/// ```
/// askSentinel(i) ─ [host, port] ─▶ confirm(host:port) ─ ROLE master ─▶ use(host:port, sentinel: i)
///      ▲  └ down, null, -ERR, nonsense ─┐      └ down, not master ─┐
///      └──────── next sentinel ◀────────┴──────────────────────────┘ (each asked once) ─ none left ─▶ fail
/// ```
///
/// - Important: Bounded: each sentinel is asked at most once per resolution, and an address that failed `ROLE` is
///   not tried again in the same resolution (during a failover every sentinel still names the dead primary for a
///   few seconds: one connect to it is enough). The sentinel that answered is asked first next time, as the Sentinel
///   client guidelines ask.
public struct SentinelResolutionStateMachine: Sendable {
    public enum Action: Equatable, Sendable {
        /// Send `SENTINEL get-master-addr-by-name <master>` to the sentinel at this index of the list; answer
        /// ``sentinelAnswered(_:)``.
        case askSentinel(Int)
        /// Connect to this node and send `ROLE`; answer ``roleAnswered(_:)``.
        case confirm(RedisNodeAddress)
        /// Done: this is the primary, and `sentinel` named it.
        case use(RedisNodeAddress, sentinel: Int)
        /// Done: no sentinel named a primary that confirmed.
        case fail(RedisError)
    }

    enum State: Equatable, Sendable {
        case asking(Int)
        case confirming(RedisNodeAddress, sentinel: Int)
        case done
    }

    public let masterName: String
    public let sentinelCount: Int
    public let firstSentinel: Int
    private(set) var state: State
    private var asked = 1
    private var refused: Set<RedisNodeAddress> = []
    private var reasons: [String] = []

    /// - Parameter firstSentinel: the index of the sentinel that answered last time (0 at first).
    public init(masterName: String, sentinelCount: Int, firstSentinel: Int = 0) {
        precondition(sentinelCount > 0, "at least one sentinel")
        self.masterName = masterName
        self.sentinelCount = sentinelCount
        self.firstSentinel = (0..<sentinelCount).contains(firstSentinel) ? firstSentinel : 0
        self.state = .asking(self.firstSentinel)
    }

    public func start() -> Action { .askSentinel(firstSentinel) }

    /// The command `SENTINEL get-master-addr-by-name` sends.
    public var question: [String] { ["SENTINEL", "get-master-addr-by-name", masterName] }

    public mutating func sentinelAnswered(_ result: Result<RedisReply, RedisError>) -> Action {
        guard case .asking(let index) = state else { preconditionFailure("sentinelAnswered in \(state)") }
        switch result {
        case .failure(let error):
            return next(because: "sentinel \(index + 1): \(error)")
        case .success(.array(let parts)) where parts.count == 2:
            guard case .bulk(let host) = parts[0], case .bulk(let port) = parts[1],
                let address = RedisNodeAddress.from(host: host, port: port)
            else { return next(because: "sentinel \(index + 1): an answer that is not [host, port]") }
            if refused.contains(address) {
                return next(because: "sentinel \(index + 1) still names \(address)")
            }
            state = .confirming(address, sentinel: index)
            return .confirm(address)
        case .success(.null), .success(.array([])):
            return next(because: "sentinel \(index + 1) does not monitor a master named \(masterName)")
        case .success(.error(let message)):
            return next(because: "sentinel \(index + 1) refused: \(message)")
        case .success:
            return next(because: "sentinel \(index + 1): an answer that is not [host, port]")
        }
    }

    public mutating func roleAnswered(_ result: Result<RedisReply, RedisError>) -> Action {
        guard case .confirming(let address, let sentinel) = state else {
            preconditionFailure("roleAnswered in \(state)")
        }
        switch result {
        case .success(let reply) where Self.role(of: reply) == "master":
            state = .done
            return .use(address, sentinel: sentinel)
        case .success(let reply):
            refused.insert(address)
            let role = Self.role(of: reply).map { "is a \($0)" } ?? "did not answer ROLE"
            return next(because: "\(address), named by sentinel \(sentinel + 1), \(role)")
        case .failure(let error):
            refused.insert(address)
            return next(because: "\(address), named by sentinel \(sentinel + 1): \(error)")
        }
    }

    private mutating func next(because reason: String) -> Action {
        reasons.append(reason)
        guard asked < sentinelCount else {
            state = .done
            return .fail(
                RedisError(
                    .connect,
                    "no sentinel named a primary of \(masterName) that confirmed: " + reasons.joined(separator: "; ")
                )
            )
        }
        let index = (firstSentinel + asked) % sentinelCount
        asked += 1
        state = .asking(index)
        return .askSentinel(index)
    }

    /// `master`, `slave` or `sentinel`: the first element of a `ROLE` reply.
    public static func role(of reply: RedisReply) -> String? {
        guard case .array(let parts) = reply, case .bulk(let role)? = parts.first else { return nil }
        return String(validating: role, as: UTF8.self)
    }

    /// Whether a reply from the node in use means it is no longer the primary, so the sentinels are asked again:
    /// `-READONLY` (a replica now) and `-MASTERDOWN` (a replica that lost its primary).
    public static func asksAgain(after reply: RedisReply) -> Bool {
        guard case .error(let message) = reply else { return false }
        return message.hasPrefix("READONLY") || message.hasPrefix("MASTERDOWN")
    }
}
