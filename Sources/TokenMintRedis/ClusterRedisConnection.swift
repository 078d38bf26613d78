import CoreMetrics
import Logging
import Synchronization
import TokenMint

/// The domain's ``RedisConnection`` against a Redis Cluster: both shared keys hash to one slot (the `{client id}`
/// tag of ``SharedTokenKeys``), so this remembers the one node that slot lives on, follows `MOVED` there, and follows
/// `ASK` (`ASKING`, then the command, once) during a migration (``ClusterRoutingStateMachine``), over one
/// ``HiredisConnection`` per node.
///
/// - Important: Bounded: at most ``ClusterRoutingStateMachine/defaultMaximumRedirects`` redirects per call, each hop
///   within the connect and command timeouts. `CLUSTERDOWN` and `TRYAGAIN` fail the call like any Redis failure
///   (degraded, ``RefreshPolicy``'s backoff). A node that fails is forgotten and the next call starts again at the
///   `REDIS_URL` node, which redirects to the slot's node as the cluster knows it after its own failover.
public final class ClusterRedisConnection: RedisConnection, RedisNodeReporting, Sendable {
    struct State {
        /// The node the keys' slot was last found on.
        var slotNode: RedisNodeAddress
        var connections: [RedisNodeAddress: HiredisConnection] = [:]
        var healthy = true
        var closed = false
        var healthCheck: Task<Void, Never>?
    }

    /// Connections kept open at most: a cluster's slot moves among a few nodes; more is churn, closed as it goes.
    static let maximumConnections = 8

    public let settings: RedisSettings
    private let tls: TLSContext?
    private let metrics: RedisMetrics?
    private let logger: Logger
    private let state: Mutex<State>
    /// The health check's own connection to the slot's node, so it never waits behind a refresh.
    private let healthConnection = Mutex<HiredisConnection?>(nil)

    /// - Throws: ``SettingsError`` naming the `REDIS_TLS_*` variable whose file OpenSSL cannot use.
    public init(settings: RedisSettings, metrics: RedisMetrics?, logger: Logger) throws {
        self.settings = settings
        self.tls = try settings.tls.map(TLSContext.init(settings:))
        self.metrics = metrics
        self.logger = logger
        self.state = Mutex(State(slotNode: settings.node))
        let healthCheck = RedisHealthCheckLoop.start(every: settings.healthCheckSeconds, owner: self) {
            await $0.checkHealth()
        }
        state.withLock { $0.healthCheck = healthCheck }
    }

    public var nodeInUse: RedisNodeAddress? { state.withLock { $0.slotNode } }
    public var isHealthy: Bool { state.withLock { $0.healthy } }

    public func send(_ arguments: [String]) async throws -> RedisReply {
        var machine = ClusterRoutingStateMachine()
        var action = machine.start(at: state.withLock { $0.slotNode })
        while true {
            switch action {
            case .send(let node, let asking):
                if machine.redirects > 0 {
                    (asking ? metrics?.askRedirects : metrics?.movedRedirects)?.increment()
                }
                let connection = try self.connection(to: node)
                let reply: RedisReply
                do {
                    if asking {
                        let asked = try await connection.send(["ASKING"])
                        guard asked == .status("OK") else {
                            throw RedisError(.reply, "ASKING refused by \(node)")
                        }
                    }
                    reply = try await connection.send(arguments)
                } catch {
                    let failure = RedisError.from(error)
                    failed(node, because: failure)
                    throw failure
                }
                let before = machine.learnedNode
                action = machine.replied(reply, from: node)
                if let learned = machine.learnedNode, learned != before { learn(learned) }
                if case .answer = action { state.withLock { $0.healthy = true } }
            case .answer(let reply):
                return reply
            case .fail(let error):
                state.withLock { $0.healthy = false }
                throw error
            }
        }
    }

    public func close() async {
        let (connections, check) = state.withLock { state in
            state.closed = true
            defer {
                state.connections = [:]
                state.healthCheck = nil
            }
            return (Array(state.connections.values), state.healthCheck)
        }
        check?.cancel()
        await check?.value
        for connection in connections { await connection.close() }
        await healthConnection.withLock { $0 }?.close()
    }

    // MARK: Nodes

    private func connection(to node: RedisNodeAddress) throws -> HiredisConnection {
        let (connection, evicted) = try state.withLock { state -> (HiredisConnection, [HiredisConnection]) in
            if state.closed { throw RedisError(.io, "the connection is closed") }
            if let existing = state.connections[node] { return (existing, []) }
            var evicted: [HiredisConnection] = []
            while state.connections.count >= Self.maximumConnections,
                let other = state.connections.keys.first(where: { $0 != state.slotNode })
            {
                evicted.append(state.connections.removeValue(forKey: other)!)
            }
            let connection = HiredisConnection(
                node: settings.dataNode(node),
                tls: tls,
                commands: metrics?.commands
            )
            state.connections[node] = connection
            return (connection, evicted)
        }
        if !evicted.isEmpty { Task { for old in evicted { await old.close() } } }
        return connection
    }

    /// `MOVED`: the slot lives on `node` from now on.
    private func learn(_ node: RedisNodeAddress) {
        let previous = state.withLock { state in
            defer { state.slotNode = node }
            return state.slotNode
        }
        guard previous != node else { return }
        logger.info(
            "redis: the cluster moved the token's slot",
            metadata: ["redis_node": "\(node)", "previous": "\(previous)"]
        )
    }

    /// A node that failed is forgotten: the next call starts again at the `REDIS_URL` node.
    private func failed(_ node: RedisNodeAddress, because error: RedisError) {
        let wasHealthy = state.withLock { state in
            defer {
                state.healthy = false
                if state.slotNode == node { state.slotNode = settings.node }
            }
            return state.healthy
        }
        if wasHealthy {
            logger.warning(
                "redis: a cluster node failed; starting again at REDIS_URL's node",
                metadata: ["redis_node": "\(node)", "error": "\(error)"]
            )
        }
    }

    // MARK: Health check

    /// `PING` on the slot's node, on a connection of its own.
    func checkHealth() async {
        let node = state.withLock { $0.slotNode }
        let connection = healthConnection.withLock { current -> HiredisConnection in
            if let current, current.node == node { return current }
            let fresh = HiredisConnection(node: settings.dataNode(node), tls: tls, commands: metrics?.commands)
            if let current { Task { await current.close() } }
            current = fresh
            return fresh
        }
        do {
            let reply = try await connection.send(["PING"])
            guard reply == .status("PONG") else { throw RedisError(.reply, "PING answered otherwise") }
            state.withLock { state in
                if state.slotNode == node { state.healthy = true }
            }
        } catch {
            failed(node, because: RedisError.from(error))
        }
    }
}
