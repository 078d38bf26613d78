import NIOHTTP1

/// The handful of routes tokenmint answers. Anything else is 404.
enum Route: Int, CaseIterable, Sendable {
    case token
    case healthz
    case readyz
    case metrics
    case other

    init(uri: String) {
        let path = uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? Substring(uri)
        switch path {
        case "/v1/token": self = .token
        case "/healthz": self = .healthz
        case "/readyz": self = .readyz
        case "/metrics": self = .metrics
        default: self = .other
        }
    }

    /// The `route` label of request metrics: bounded, whatever paths clients try.
    var label: String {
        switch self {
        case .token: "/v1/token"
        case .healthz: "/healthz"
        case .readyz: "/readyz"
        case .metrics: "/metrics"
        case .other: "other"
        }
    }
}
