import CoreMetrics
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import TokenMint

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// For `Benchmarks/` only: one ``TokenEndpoint`` (as an event loop has) with a servable token, a shared-secret
/// verifier, metrics and the JSON audit line (to `/dev/null`), answering `POST /v1/token` into one reused buffer as
/// ``ConnectionGuard`` writes a batch, with no socket and no pipeline.
public struct _TokenEndpointProbe {
    private var endpoint: TokenEndpoint
    private var requestIDs = RequestIDGenerator()
    private var output = ByteBufferAllocator().buffer(capacity: 1024)

    public init(clientID: String, clientSecret: Secret, callerSecret: Secret) async throws {
        let settings = Settings(
            clientID: clientID,
            clientSecret: clientSecret,
            caller: CallerSettings(hmacSecret: callerSecret)
        )
        let registry = PrometheusCollectorRegistry()
        let cache = TokenCache(timing: TokenTiming(ttlSeconds: 300, minRemainingSeconds: 60))
        cache.store(MiroTokenSigner(clientID: clientID, secret: clientSecret).mint(now: UnixTime.now(), ttl: 300))
        let writer = LogWriter(descriptor: open("/dev/null", O_WRONLY))
        let logger = Logger(label: "tokenmint") { label in LineLogHandler(label: label, format: .json, writer: writer) }
        let environment = HandlerEnvironment(
            cache: cache,
            verifiers: CallerVerifierHolder(try await CallerVerifier.make(settings: settings)),
            cors: CORSPolicy(origins: []),
            metrics: ServerMetrics(factory: PrometheusMetricsFactory(registry: registry)),
            registry: registry,
            readiness: Readiness(),
            logger: logger,
            now: UnixTime.now,
            redisState: { "disabled" },
            callerKeysState: { .fresh }
        )
        endpoint = TokenEndpoint(environment: environment)
    }

    /// Answers one `POST /v1/token` with `authorization`; returns the status and the answer's byte count.
    public mutating func answer(authorization: String) -> (status: UInt, bytes: Int) {
        var request = EndpointRequest(
            method: .POST,
            route: .token,
            requestID: requestIDs.next(),
            authorization: authorization
        )
        request.startNanoseconds = NIODeadline.now().uptimeNanoseconds
        guard case .response(let response) = endpoint.respond(to: request) else { return (0, 0) }
        output.clear()
        response.write(into: &output)
        return (response.status.code, output.readableBytes)
    }
}
