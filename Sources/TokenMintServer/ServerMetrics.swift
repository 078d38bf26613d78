import CoreMetrics
import NIOHTTP1
import TokenMint

/// The HTTP front's metrics, every handle created up front so a request only increments: no label lookup, no
/// allocation on the hot path.
struct ServerMetrics: Sendable {
    /// The statuses each route can answer with; anything else is counted as `other`. Only these series are
    /// registered, so `/metrics` is not a page of zeros.
    static func statuses(of route: Route) -> [UInt] {
        switch route {
        case .token: [200, 204, 401, 405, 413, 503]
        case .healthz, .metrics: [200, 405, 413]
        case .readyz: [200, 405, 413, 503]
        // 400 and 431 are malformed HTTP, which has no route.
        case .other: [400, 404, 413, 431]
        }
    }

    /// `tokenmint_http_requests_total{route,status}`, indexed by route, then by position in `statuses(of:)`
    /// (the last one is `other`).
    private let requests: [[Counter]]
    /// `statuses(of:)` for every route, computed once: the hot path must not build an array per request.
    private let statusCodes: [[UInt]]
    /// `tokenmint_http_request_duration_seconds{route}`.
    private let latency: [Timer]
    /// `tokenmint_caller_rejected_total{reason}`, indexed by `CallerRejection.Kind.index`.
    private let rejected: [Counter]
    /// `tokenmint_tokens_served_total`.
    let served: Counter

    init(factory: any MetricsFactory) {
        statusCodes = Route.allCases.map(Self.statuses(of:))
        requests = Route.allCases.map { route in
            (Self.statuses(of: route).map { "\($0)" } + ["other"]).map { status in
                Counter(
                    label: "tokenmint_http_requests_total",
                    dimensions: [("route", route.label), ("status", status)],
                    factory: factory
                )
            }
        }
        latency = Route.allCases.map { route in
            Timer(
                label: "tokenmint_http_request_duration_seconds",
                dimensions: [("route", route.label)],
                factory: factory
            )
        }
        rejected = CallerRejection.Kind.all.map { kind in
            Counter(
                label: "tokenmint_caller_rejected_total",
                dimensions: [("reason", kind.description)],
                factory: factory
            )
        }
        served = Counter(label: "tokenmint_tokens_served_total", factory: factory)
    }

    func record(route: Route, status: HTTPResponseStatus, nanoseconds: Int64) {
        count(route: route, status: status)
        latency[route.rawValue].recordNanoseconds(nanoseconds)
    }

    /// Counts an answer without a duration: malformed HTTP is answered before any request was read.
    func count(route: Route, status: HTTPResponseStatus) {
        let counters = requests[route.rawValue]
        let index = statusCodes[route.rawValue].firstIndex(of: status.code) ?? counters.count - 1
        counters[index].increment()
    }

    func recordRejection(_ kind: CallerRejection.Kind) {
        rejected[kind.index].increment()
    }
}
