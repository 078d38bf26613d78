import Testing

@testable import TokenMintServer

@Suite struct RouteTests {
    @Test(arguments: [
        ("/v1/token", Route.token),
        ("/v1/token?origin=x", .token),
        ("/healthz", .healthz),
        ("/readyz?", .readyz),
        ("/metrics", .metrics),
        ("/v1/tokens", .other),
        ("/v1/toke", .other),
        ("/V1/token", .other),
        ("/healthz/", .other),
        ("", .other),
        ("?/v1/token", .other),
        ("other", .other),
    ])
    func theRouteIsThePathBeforeTheQuery(uri: String, route: Route) {
        #expect(Route(uri: uri) == route)
    }
}
