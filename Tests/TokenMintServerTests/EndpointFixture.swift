import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import Prometheus
import TokenMint
import TokenMintTesting

@testable import TokenMintServer

/// A ``HandlerEnvironment`` with a servable token and no server: for tests of the endpoint and the connection
/// guard that need neither a socket nor a refresher.
struct EndpointFixture {
    let environment: HandlerEnvironment
    let token: MiroToken

    static func make(
        caller: CallerSettings = CallerSettings(hmacSecret: Secret(LiveServer.callerSecret)),
        origins: [String] = ["https://site.example"],
        logger: Logger = Logger(label: "tokenmint-test")
    ) async throws -> EndpointFixture {
        let settings = LiveServer.settings(caller: caller, origins: origins)
        let registry = PrometheusCollectorRegistry()
        let timing = TokenTiming(ttlSeconds: 300, minRemainingSeconds: 60)
        let cache = TokenCache(timing: timing)
        let token = MiroTokenSigner(clientID: LiveServer.clientID, secret: Secret(LiveServer.clientSecret))
            .mint(now: UnixTime.now(), ttl: 300)
        cache.store(token)
        let environment = HandlerEnvironment(
            cache: cache,
            verifiers: CallerVerifierHolder(try await CallerVerifier.make(settings: settings)),
            cors: CORSPolicy(origins: origins),
            metrics: ServerMetrics(factory: PrometheusMetricsFactory(registry: registry)),
            registry: registry,
            readiness: Readiness(),
            logger: logger,
            now: UnixTime.now,
            redisState: { "disabled" },
            callerKeysState: { .fresh }
        )
        return EndpointFixture(environment: environment, token: token)
    }

    /// The answer's bytes, parsed by the tests' independent HTTP reader.
    static func parse(_ response: EndpointResponse) -> HTTPResponse? {
        var buffer = ByteBuffer()
        response.write(into: &buffer)
        return RawHTTPClient.parse(Array(buffer.readableBytesView)).0.first
    }

    static func post(
        authorization: String?,
        origin: String? = nil,
        accept: String? = nil,
        id: RequestID = .supplied("req-1")
    ) -> EndpointRequest {
        EndpointRequest(
            method: .POST,
            route: .token,
            requestID: id,
            authorization: authorization,
            accept: accept,
            origin: origin
        )
    }
}
