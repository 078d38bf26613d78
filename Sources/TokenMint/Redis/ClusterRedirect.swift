/// What a Redis Cluster node's reply means for routing, parsed with no I/O: answered, sent elsewhere (`MOVED`,
/// `ASK`), or a cluster failure (`CLUSTERDOWN`, `TRYAGAIN`) that counts like any Redis failure.
public enum ClusterRedirect: Equatable, Sendable {
    /// `-MOVED <slot> <host>:<port>`: the slot lives on that node now; remember it and send there.
    case moved(slot: Int, to: RedisNodeAddress)
    /// `-ASK <slot> <host>:<port>`: the slot is being migrated; send `ASKING` and the command there, once, and keep
    /// the slot's node as it was.
    case ask(slot: Int, to: RedisNodeAddress)
    /// `-CLUSTERDOWN`, `-TRYAGAIN`: the cluster cannot answer now (degraded, backoff).
    case unavailable(String)

    /// The redirect a reply carries; nil for any other reply (an answer, or an error the caller handles).
    ///
    /// - Parameter node: the node that replied: Redis 7 may leave the host out (`MOVED 3999 :6380`) to mean "mine".
    public static func parse(_ reply: RedisReply, from node: RedisNodeAddress) -> ClusterRedirect? {
        guard case .error(let message) = reply else { return nil }
        if message.hasPrefix("CLUSTERDOWN") || message.hasPrefix("TRYAGAIN") {
            return .unavailable(String(message.prefix(120)))
        }
        let parts = message.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[0] == "MOVED" || parts[0] == "ASK",
            parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let slot = Int(parts[1]), (0..<16384).contains(slot)
        else { return nil }
        var target = parts[2]
        if target.hasPrefix(":") {
            target = Substring(node.host.contains(":") ? "[\(node.host)]" : node.host) + target
        }
        guard let address = RedisNodeAddress.parse(target) else { return nil }
        return parts[0] == "MOVED" ? .moved(slot: slot, to: address) : .ask(slot: slot, to: address)
    }
}

/// One command's way through a Redis Cluster, as a state machine with no I/O: where to send it, whether `ASKING`
/// goes first, and when to stop following redirects.
///
/// - Important: Bounded: at most ``maximumRedirects`` redirects per call, then the call fails as a Redis failure
///   (a slot bouncing between nodes mid-resharding is the cluster's trouble, not a reason to spin).
public struct ClusterRoutingStateMachine: Sendable {
    public enum Action: Equatable, Sendable {
        /// Send the command to this node, `ASKING` first when `asking`; answer ``replied(_:from:)``.
        case send(to: RedisNodeAddress, asking: Bool)
        /// Done: this is the command's reply.
        case answer(RedisReply)
        /// Done: a cluster failure or too many redirects.
        case fail(RedisError)
    }

    public static let defaultMaximumRedirects = 5

    public let maximumRedirects: Int
    public private(set) var redirects = 0
    /// The slot's node as this call learned it: a `MOVED` target, to remember for the next calls.
    public private(set) var learnedNode: RedisNodeAddress?

    public init(maximumRedirects: Int = defaultMaximumRedirects) {
        self.maximumRedirects = maximumRedirects
    }

    public func start(at node: RedisNodeAddress) -> Action { .send(to: node, asking: false) }

    public mutating func replied(_ reply: RedisReply, from node: RedisNodeAddress) -> Action {
        switch ClusterRedirect.parse(reply, from: node) {
        case nil:
            return .answer(reply)
        case .unavailable(let message):
            return .fail(RedisError(.reply, "the cluster is unavailable: \(message)"))
        case .moved(_, let target):
            if let failure = counted() { return failure }
            learnedNode = target
            return .send(to: target, asking: false)
        case .ask(_, let target):
            if let failure = counted() { return failure }
            return .send(to: target, asking: true)
        }
    }

    /// Counts a redirect; the failure once there were too many.
    private mutating func counted() -> Action? {
        redirects += 1
        guard redirects <= maximumRedirects else {
            return .fail(RedisError(.reply, "more than \(maximumRedirects) cluster redirects for one command"))
        }
        return nil
    }
}
