import NIOHTTP1

/// The handful of routes tokenmint answers. Anything else is 404.
enum Route: Int, CaseIterable, Sendable {
    case token
    case healthz
    case readyz
    case metrics
    case other

    /// The route of a request target: its path, before any `?`, compared byte for byte.
    init(uri: String) {
        var uri = uri
        self = uri.withUTF8 { bytes in
            let path = UnsafeBufferPointer(rebasing: bytes[..<(bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex)])
            return Self.allCases.first { $0 != .other && $0.label.utf8.elementsEqual(path) } ?? .other
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
