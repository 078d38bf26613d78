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

        let verifier = try await CallerVerifier.make(settings: settings)
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
        let clock = SystemRefreshClock(now: now)
        var shared: RedisTokenSource?
        var closeRedis: @Sendable () async -> Void = {}
        if let redis = settings.redis {
            let connection = try HiredisConnection(settings: redis)
            closeRedis = { await connection.close() }
            shared = RedisTokenSource(
                connection: connection,
                signer: signer,
                secret: settings.clientSecret,
                timing: timing,
                tokenMetrics: tokenMetrics,
                redisMetrics: RedisMetrics(factory: factory),
                logger: logger,
                clock: clock,
                holdLockForTesting: holdLockForTesting
            )
            let key = SharedTokenKeys(clientID: settings.clientID, secret: settings.clientSecret).token
            logger.info("redis-shared mode", metadata: ["redis": "\(redis.address)", "key": "\(key)"])
        }
        let refresher = TokenRefresher(
            minter: TokenMinter(signer: signer, timing: timing, metrics: tokenMetrics),
            shared: shared,
            cache: cache,
            metrics: tokenMetrics,
            logger: logger,
            clock: clock
        )
        try await refresher.prime(timeout: .seconds(5))

        let environment = HandlerEnvironment(
            cache: cache,
            verifier: verifier,
            cors: CORSPolicy(origins: settings.corsAllowedOrigins),
            metrics: ServerMetrics(factory: factory),
            registry: registry,
            readiness: Readiness(),
            logger: logger,
            now: now,
            redisState: { refresher.sharing.rawValue }
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
            closeRedis: closeRedis
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
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: RefreshService(refresher: refresher, closeRedis: closeRedis)),
                    .init(service: ListeningService(server: server, listening: listening)),
                ],
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
