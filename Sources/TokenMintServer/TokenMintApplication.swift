import CoreMetrics
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import TokenMint
import TokenMintRedis
import UnixSignals

/// Everything a replica runs, wired from ``Settings``: the one builder the executable and the tests both call.
public struct TokenMintApplication: Sendable {
    public let settings: Settings
    public let cache: TokenCache
    public let refresher: TokenRefresher
    public let server: HTTPServer
    /// The Prometheus registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    /// Closes the Redis connection, if any, once the refresher has stopped.
    let closeRedis: @Sendable () async -> Void
    /// Refreshes the identity provider's keys, when they are fetched.
    let callerKeys: CallerKeyService?

    /// Builds the replica and obtains its first token, so that it is ready the moment it listens.
    ///
    /// - Throws: ``SettingsError`` for unusable key files; the source's error if no first token could be had.
    public static func build(
        settings: Settings,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        idleTimeout: TimeAmount = HTTPServer.idleTimeout,
        now: @escaping @Sendable () -> Double = UnixTime.now,
        holdLockForTesting: Duration? = nil
    ) async throws -> TokenMintApplication {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Answers come from memory in microseconds: the default buckets (from 5 ms) would put all in the first.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1),
        ]

        let fetcher = settings.caller.fetchesKeys ? try HTTPSCallerKeyFetcher(caFile: settings.caller.caFile) : nil
        let verifier = try await CallerVerifier.make(
            settings: settings,
            fetcher: fetcher,
            // Registered only when keys are fetched: an age gauge of 0 for a set that does not exist would mislead.
            keyMetrics: settings.caller.fetchesKeys ? CallerKeyMetrics(factory: factory) : nil,
            logger: logger,
            now: now
        )
        for skipped in verifier.skippedKeys {
            logger.warning("CALLER_JWT_JWKS_FILE: skipped a key", metadata: ["key": "\(skipped)"])
        }
        let timing = TokenTiming(
            ttlSeconds: settings.tokenTTLSeconds,
            minRemainingSeconds: settings.minRemainingSeconds
        )
        let tokenMetrics = TokenMetrics(factory: factory)
        let cache = TokenCache(timing: timing)
        let signer = MiroTokenSigner(clientID: settings.clientID, secret: settings.clientSecret)
        let source: any TokenSource
        let redisState: @Sendable () -> String
        var closeRedis: @Sendable () async -> Void = {}
        if let redis = settings.redis {
            let connection = HiredisConnection(settings: redis)
            closeRedis = { await connection.close() }
            let shared = RedisTokenSource(
                connection: connection,
                signer: signer,
                secret: settings.clientSecret,
                timing: timing,
                tokenMetrics: tokenMetrics,
                redisMetrics: RedisMetrics(factory: factory),
                logger: logger,
                now: now,
                holdLockForTesting: holdLockForTesting
            )
            let health = shared.health
            source = shared
            redisState = { health.state.rawValue }
            let key = SharedTokenKeys(clientID: settings.clientID, secret: settings.clientSecret).token
            logger.info("redis-shared mode", metadata: ["redis": "\(redis.address)", "key": "\(key)"])
        } else {
            source = LocalTokenSource(signer: signer, timing: timing, metrics: tokenMetrics)
            redisState = { "disabled" }
        }
        let refresher = TokenRefresher(
            source: source,
            cache: cache,
            metrics: tokenMetrics,
            logger: logger,
            now: now
        )
        do {
            try await refresher.prime(timeout: .seconds(5))
        } catch {
            // The HTTPS client must be shut down before it is released; nothing else will, once build fails.
            await fetcher?.shutdown()
            throw error
        }

        let environment = HandlerEnvironment(
            cache: cache,
            verifier: verifier,
            cors: CORSPolicy(origins: settings.corsAllowedOrigins),
            metrics: ServerMetrics(factory: factory),
            registry: registry,
            readiness: Readiness(),
            logger: logger,
            now: now,
            redisState: redisState,
            callerKeysState: { verifier.keyStore?.health ?? .fresh }
        )
        let server = HTTPServer(
            host: settings.host,
            port: settings.port,
            group: group,
            environment: environment,
            idleTimeout: idleTimeout
        )
        return TokenMintApplication(
            settings: settings,
            cache: cache,
            refresher: refresher,
            server: server,
            registry: registry,
            closeRedis: closeRedis,
            callerKeys: verifier.keyStore.map { store in
                CallerKeyService(store: store, shutdown: { await fetcher?.shutdown() })
            }
        )
    }

    /// Runs until SIGTERM or SIGINT, then drains and returns.
    ///
    /// The socket is bound inside the service group, after the group has trapped SIGTERM and SIGINT: a signal sent
    /// the moment the replica announces itself (a test, or Kubernetes deleting a pod that just started) then drains
    /// it instead of killing it with the default action and losing its buffered log lines.
    ///
    /// - Parameter listening: called once with the bound port, when the replica accepts connections.
    /// - Throws: ``HTTPServer/ListenError`` if the socket cannot be bound.
    public func run(logger: Logger, listening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: RefreshService(refresher: refresher, closeRedis: closeRedis))
        ]
        // Before the server, so it stops after the server has drained: a request in flight may still refetch.
        if let callerKeys { services.append(.init(service: callerKeys)) }
        services.append(.init(service: ListeningService(server: server, listening: listening)))
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

/// Binds the server, says so, then serves until graceful shutdown.
struct ListeningService: Service {
    let server: HTTPServer
    let listening: @Sendable (Int) -> Void

    func run() async throws {
        listening(try await server.start())
        try await server.run()
    }
}

/// Runs the refresher until graceful shutdown. Listed before the server, so it stops after the server has drained.
struct RefreshService: Service {
    let refresher: TokenRefresher
    let closeRedis: @Sendable () async -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await refresher.run()
        }
        // No lock is held here: a refresh releases its lock before it returns, cancelled or not.
        await closeRedis()
    }
}

/// Runs the identity provider's key refresh until graceful shutdown, then closes the HTTPS client.
struct CallerKeyService: Service {
    let store: CallerKeyStore
    let shutdown: @Sendable () async -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await store.run()
        }
        await shutdown()
    }
}
