import CoreMetrics
import Logging
import Synchronization
import TokenMint

/// The domain's ``RedisConnection`` under Redis Sentinel: asks the sentinels for the primary
/// (``SentinelResolutionStateMachine``), confirms it with `ROLE`, and sends every command there over a
/// ``HiredisConnection`` of its own; asks again after a connection failure, a `-READONLY` or `-MASTERDOWN` reply, or
/// a health check that finds the node gone or no longer `master`.
///
/// - Important: Nothing here retries a command: a failed call throws (or returns its `-READONLY` reply) and marks the
///   primary lost, and the next call or health check asks the sentinels again; when to retry a refresh is
///   ``RefreshPolicy``'s one backoff. Every call is bounded: a resolution asks each sentinel at most once and
///   confirms each address at most once, each call within the connect and command timeouts. Concurrent callers share
///   one resolution. The health check (`ROLE` every `REDIS_HEALTH_CHECK_SECONDS` on a connection of its own, so it
///   never waits behind a refresh) is what notices a failover while no refresh is due.
public final class SentinelRedisConnection: RedisConnection, RedisNodeReporting, Sendable {
    /// A confirmed primary: one connection for commands, one for health checks.
    final class Primary: Sendable {
        let address: RedisNodeAddress
        let data: HiredisConnection
        let health: HiredisConnection

        init(address: RedisNodeAddress, data: HiredisConnection, health: HiredisConnection) {
            self.address = address
            self.data = data
            self.health = health
        }

        func close() async {
            await data.close()
            await health.close()
        }
    }

    struct State {
        var primary: Primary?
        /// The primary used last, kept when it is lost: a different one next is a failover.
        var lastAddress: RedisNodeAddress?
        var resolution: Task<Primary, any Error>?
        /// The sentinel that answered last: asked first next time.
        var preferredSentinel = 0
        var healthy = true
        var closed = false
        var healthCheck: Task<Void, Never>?
    }

    public let settings: RedisSettings
    let sentinel: RedisSentinelSettings
    private let sentinels: [HiredisConnection]
    private let tls: TLSContext?
    private let metrics: RedisMetrics?
    private let logger: Logger
    private let state = Mutex(State())

    /// - Precondition: `settings.mode` is ``RedisMode/sentinel(_:)``.
    /// - Throws: ``SettingsError`` naming the `REDIS_TLS_*` variable whose file OpenSSL cannot use.
    public init(settings: RedisSettings, metrics: RedisMetrics?, logger: Logger) throws {
        guard case .sentinel(let sentinel) = settings.mode else {
            preconditionFailure("SentinelRedisConnection needs Sentinel settings")
        }
        let tls = try settings.tls.map(TLSContext.init(settings:))
        self.settings = settings
        self.sentinel = sentinel
        self.tls = tls
        self.metrics = metrics
        self.logger = logger
        self.sentinels = sentinel.sentinels.map {
            HiredisConnection(
                node: settings.sentinelNode($0, password: sentinel.password),
                tls: tls,
                commands: metrics?.commands
            )
        }
        let healthCheck = RedisHealthCheckLoop.start(every: settings.healthCheckSeconds, owner: self) {
            await $0.checkHealth()
        }
        state.withLock { $0.healthCheck = healthCheck }
    }

    public var nodeInUse: RedisNodeAddress? { state.withLock { $0.primary?.address } }
    public var isHealthy: Bool { state.withLock { $0.healthy } }

    public func send(_ arguments: [String]) async throws -> RedisReply {
        let primary = try await currentPrimary()
        let reply: RedisReply
        do {
            reply = try await primary.data.send(arguments)
        } catch {
            let failure = RedisError.from(error)
            lost(primary, because: "\(failure)")
            throw failure
        }
        if SentinelResolutionStateMachine.asksAgain(after: reply), case .error(let message) = reply {
            lost(primary, because: "it answered \(message.prefix(60))")
        }
        return reply
    }

    public func close() async {
        let (primary, check, resolution, sentinels) = state.withLock { state in
            state.closed = true
            defer {
                state.primary = nil
                state.healthCheck = nil
            }
            return (state.primary, state.healthCheck, state.resolution, self.sentinels)
        }
        check?.cancel()
        await check?.value
        if let resolution, let resolved = try? await resolution.value { await resolved.close() }
        await primary?.close()
        for connection in sentinels { await connection.close() }
    }

    // MARK: The primary

    private enum Lookup: Sendable {
        case ready(Primary)
        case waiting(Task<Primary, any Error>)
        case closed
    }

    /// The confirmed primary, or one resolution shared by every caller that needs it.
    private func currentPrimary() async throws -> Primary {
        let lookup = state.withLock { state -> Lookup in
            if state.closed { return .closed }
            if let primary = state.primary { return .ready(primary) }
            if let resolution = state.resolution { return .waiting(resolution) }
            let resolution = Task { try await self.resolve() }
            state.resolution = resolution
            return .waiting(resolution)
        }
        switch lookup {
        case .ready(let primary): return primary
        case .waiting(let resolution): return try await resolution.value
        case .closed: throw RedisError(.io, "the connection is closed")
        }
    }

    /// Drives ``SentinelResolutionStateMachine`` to a confirmed primary and installs it.
    private func resolve() async throws -> Primary {
        var machine = SentinelResolutionStateMachine(
            masterName: sentinel.masterName,
            sentinelCount: sentinels.count,
            firstSentinel: state.withLock { $0.preferredSentinel }
        )
        var action = machine.start()
        var candidate: Primary?
        while true {
            switch action {
            case .askSentinel(let index):
                let question = machine.question
                let sentinel = sentinels[index]
                let result = await Self.result { try await sentinel.send(question) }
                action = machine.sentinelAnswered(result)
            case .confirm(let address):
                let node = settings.dataNode(address)
                let primary = Primary(
                    address: address,
                    data: HiredisConnection(node: node, tls: tls, commands: metrics?.commands),
                    health: HiredisConnection(node: node, tls: tls, commands: metrics?.commands)
                )
                let result = await Self.result { try await primary.data.send(["ROLE"]) }
                action = machine.roleAnswered(result)
                if case .use = action {
                    candidate = primary
                } else {
                    await primary.close()
                }
            case .use(let address, let sentinelIndex):
                guard let primary = candidate else { preconditionFailure("use without a candidate") }
                return try await install(primary, address: address, sentinel: sentinelIndex)
            case .fail(let error):
                let wasHealthy = state.withLock { state in
                    defer {
                        state.resolution = nil
                        state.healthy = false
                    }
                    return state.healthy
                }
                if wasHealthy {
                    logger.error(
                        "redis: the sentinels name no usable primary; asking again at the next call or check",
                        metadata: ["error": "\(error)"]
                    )
                }
                throw error
            }
        }
    }

    private func install(_ primary: Primary, address: RedisNodeAddress, sentinel index: Int) async throws -> Primary {
        let (closed, previous) = state.withLock { state -> (Bool, RedisNodeAddress?) in
            state.resolution = nil
            if state.closed { return (true, nil) }
            let previous = state.lastAddress
            state.primary = primary
            state.lastAddress = address
            state.preferredSentinel = index
            state.healthy = true
            return (false, previous)
        }
        if closed {
            await primary.close()
            throw RedisError(.io, "the connection is closed")
        }
        if let previous, previous != address {
            metrics?.failovers.increment()
            logger.warning(
                "redis: failover, the sentinels name a new primary",
                metadata: ["redis_node": "\(address)", "previous": "\(previous)", "master": "\(sentinel.masterName)"]
            )
        } else {
            logger.info(
                "redis: using the primary the sentinels name",
                metadata: ["redis_node": "\(address)", "master": "\(sentinel.masterName)"]
            )
        }
        return primary
    }

    /// The primary failed or is not one any more: forget it (once), so the next call or check asks the sentinels.
    private func lost(_ primary: Primary, because reason: String) {
        let forgotten = state.withLock { state -> Bool in
            guard state.primary === primary else { return false }
            state.primary = nil
            state.healthy = false
            return true
        }
        guard forgotten else { return }
        logger.warning(
            "redis: lost the primary; asking the sentinels again",
            metadata: ["redis_node": "\(primary.address)", "reason": "\(reason)"]
        )
        Task { await primary.close() }
    }

    // MARK: Health check

    /// `ROLE` on the primary in use (or a resolution, when none is): a node that fails or is no longer `master` is
    /// lost and the sentinels are asked at once.
    func checkHealth() async {
        guard let primary = try? await currentPrimary() else { return }
        let result = await Self.result { try await primary.health.send(["ROLE"]) }
        let role: String?
        switch result {
        case .success(let reply): role = SentinelResolutionStateMachine.role(of: reply)
        case .failure(let error):
            lost(primary, because: "\(error)")
            _ = try? await currentPrimary()
            return
        }
        guard role == "master" else {
            lost(primary, because: "its ROLE is \(role ?? "not an answer")")
            _ = try? await currentPrimary()
            return
        }
        state.withLock { state in
            if state.primary === primary { state.healthy = true }
        }
    }

    private static func result(
        _ body: @Sendable () async throws -> RedisReply
    ) async -> Result<RedisReply, RedisError> {
        do { return .success(try await body()) } catch { return .failure(RedisError.from(error)) }
    }
}
