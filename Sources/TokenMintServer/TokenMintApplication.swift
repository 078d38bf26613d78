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
    public let server: HTTPServer
    /// The Prometheus registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry
    let pipelines: TokenPipelines
    /// Re-reads mounted secrets while running; nil when built without the environment to re-read.
    let reloader: SecretReloader?
    /// Refreshes the identity provider's keys, when they are fetched.
    let callerKeys: CallerKeyService?

    /// The refresher of the client secret in force.
    public var refresher: TokenRefresher { pipelines.current.refresher }

    /// How long a new token source has to produce its first token, at start and after a reload.
    static let primeTimeout: Duration = .seconds(5)

    /// Builds the replica and obtains its first token, so that it is ready the moment it listens.
    ///
    /// - Parameter environment: the environment `settings` were loaded from; given, the replica re-reads its
    ///   `_FILE` settings and key files every `SECRET_RELOAD_SECONDS` and on SIGHUP, and applies what changed.
    /// - Throws: ``SettingsError`` for unusable key files; the source's error if no first token could be had.
    public static func build(
        settings: Settings,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        idleTimeout: TimeAmount = HTTPServer.idleTimeout,
        now: @escaping @Sendable () -> Double = UnixTime.now,
        holdLockForTesting: Duration? = nil,
        environment: [String: String]? = nil
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
        let verifierFactory = CallerVerifierFactory(
            fetcher: fetcher,
            keyMetrics: settings.caller.fetchesKeys ? CallerKeyMetrics(factory: factory) : nil,
            logger: logger,
            now: now
        )
        let verifiers: CallerVerifierHolder
        do {
            verifiers = CallerVerifierHolder(try await verifierFactory.make(settings: settings, keeping: nil))
        } catch {
            // The HTTPS client must be shut down before it is released; nothing else will, once build fails.
            await fetcher?.shutdown()
            throw error
        }
        let timing = TokenTiming(
            ttlSeconds: settings.tokenTTLSeconds,
            minRemainingSeconds: settings.minRemainingSeconds
        )
        let cache = TokenCache(timing: timing)
        let pipelineFactory = TokenPipelineFactory(
            cache: cache,
            timing: timing,
            tokenMetrics: TokenMetrics(factory: factory),
            redisMetrics: settings.redis.map { _ in RedisMetrics(factory: factory) },
            logger: logger,
            now: now,
            holdLockForTesting: holdLockForTesting
        )
        let pipeline: TokenPipeline
        do {
            pipeline = try pipelineFactory.make(settings: settings)
        } catch {
            await fetcher?.shutdown()
            throw error
        }
        do {
            try await pipeline.refresher.prime(timeout: primeTimeout)
        } catch {
            await pipeline.close()
            await fetcher?.shutdown()
            throw error
        }
        let pipelines = TokenPipelines(pipeline)

        let handlerEnvironment = HandlerEnvironment(
            cache: cache,
            verifiers: verifiers,
            cors: CORSPolicy(origins: settings.corsAllowedOrigins),
            metrics: ServerMetrics(factory: factory),
            registry: registry,
            readiness: Readiness(),
            logger: logger,
            now: now,
            redisState: { pipelines.current.redisState() },
            redisNode: { pipelines.current.redisNode() },
            callerKeysState: { verifiers.keyStore?.health ?? .fresh }
        )
        let server = HTTPServer(
            host: settings.host,
            port: settings.port,
            group: group,
            environment: handlerEnvironment,
            idleTimeout: idleTimeout
        )
        let reloader = environment.map { environment in
            SecretReloader(environment: environment, settings: settings, factory: factory, logger: logger) {
                new,
                change in
                // Everything that can fail is built before anything is swapped: a refused reload changes nothing.
                let trust =
                    change.callerKeyTrust ? try HTTPSCallerKeyFetcher.tlsConfiguration(caFile: new.caller.caFile) : nil
                let keeping = verifiers.keyStore
                let verifier =
                    change.rebuildsVerifier ? try await verifierFactory.make(settings: new, keeping: keeping) : nil
                if change.rebuildsTokenSource {
                    try await pipelines.replace(
                        with: try pipelineFactory.make(settings: new),
                        primeTimeout: primeTimeout
                    )
                }
                if let verifier {
                    let grace = Double(new.reload.callerSecretGraceSeconds)
                    verifiers.replace(
                        with: verifier,
                        previousSecretPassesUntil: change.callerSecret ? now() + grace : nil
                    )
                }
                if let trust, let fetcher {
                    fetcher.trust(trust)
                    verifiers.keyStore?.trustChanged()
                }
            }
        }
        return TokenMintApplication(
            settings: settings,
            cache: cache,
            server: server,
            registry: registry,
            pipelines: pipelines,
            reloader: reloader,
            callerKeys: verifiers.keyStore.map { store in
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
        // Shut down in reverse: the server drains first, then reloads stop, then the refresher.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: RefreshService(pipelines: pipelines))
        ]
        if let reloader {
            let seconds = settings.reload.intervalSeconds
            services.append(
                .init(service: SecretReloadService(reloader: reloader, interval: seconds > 0 ? .seconds(seconds) : nil))
            )
        }
        // Before the server, so it stops after the server has drained: a request in flight may still refetch.
        if let callerKeys { services.append(.init(service: callerKeys)) }
        services.append(.init(service: ListeningService(server: server, listening: listening)))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}

/// Builds the caller verifier for one set of settings, reading its key files; skipped JWKS keys are logged.
///
/// - Important: The identity provider's key store outlives a reload: its URL, issuer and CA come from the
///   environment, which does not change, so a rebuilt verifier keeps the store (and the keys it has fetched)
///   instead of starting over without keys.
struct CallerVerifierFactory: Sendable {
    let fetcher: HTTPSCallerKeyFetcher?
    /// Registered only when keys are fetched: an age gauge of 0 for a set that does not exist would mislead.
    let keyMetrics: CallerKeyMetrics?
    let logger: Logger
    let now: @Sendable () -> Double

    func make(settings: Settings, keeping keyStore: CallerKeyStore?) async throws -> CallerVerifier {
        let verifier = try await CallerVerifier.make(
            settings: settings,
            fetcher: fetcher,
            keyStore: keyStore,
            keyMetrics: keyMetrics,
            logger: logger,
            now: now
        )
        for skipped in verifier.skippedKeys {
            logger.warning("CALLER_JWT_JWKS_FILE: skipped a key", metadata: ["key": "\(skipped)"])
        }
        return verifier
    }
}

/// Builds the token pipeline for one set of settings: a local source, or a Redis source with a connection of its
/// own (so a new Redis password is used from the next connection), writing into the one cache the server reads.
struct TokenPipelineFactory: Sendable {
    let cache: TokenCache
    let timing: TokenTiming
    let tokenMetrics: TokenMetrics
    let redisMetrics: RedisMetrics?
    let logger: Logger
    let now: @Sendable () -> Double
    let holdLockForTesting: Duration?

    /// - Throws: ``SettingsError`` for Redis TLS files that cannot be used.
    func make(settings: Settings) throws -> TokenPipeline {
        let signer = MiroTokenSigner(clientID: settings.clientID, secret: settings.clientSecret)
        let clock = SystemRefreshClock(now: now)
        var shared: RedisTokenSource?
        var close: @Sendable () async -> Void = {}
        var reporting: (any RedisNodeReporting)?
        if let redis = settings.redis, let redisMetrics {
            let connection = try Self.connection(redis, metrics: redisMetrics, logger: logger)
            reporting = connection
            close = { await connection.close() }
            shared = RedisTokenSource(
                connection: connection,
                signer: signer,
                secret: settings.clientSecret,
                timing: timing,
                tokenMetrics: tokenMetrics,
                redisMetrics: redisMetrics,
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
        let report = reporting
        return TokenPipeline(
            refresher: refresher,
            close: close,
            redisState: {
                let sharing = refresher.sharing
                // A failed health check shows at once, without waiting for the next refresh to fail.
                if sharing != .disabled, report?.isHealthy == false { return RefreshPolicy.Sharing.degraded.rawValue }
                return sharing.rawValue
            },
            redisNode: { report.map { $0.nodeInUse?.description ?? "none" } }
        )
    }

    /// The connection of the mode: one server, Sentinel's primary, or a Cluster's nodes.
    static func connection(
        _ redis: RedisSettings,
        metrics: RedisMetrics,
        logger: Logger
    ) throws -> any RedisConnection & RedisNodeReporting {
        switch redis.mode {
        case .standalone: try HiredisConnection(settings: redis, metrics: metrics)
        case .sentinel: try SentinelRedisConnection(settings: redis, metrics: metrics, logger: logger)
        case .cluster: try ClusterRedisConnection(settings: redis, metrics: metrics, logger: logger)
        }
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
