import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
            let end = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
            let path = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[..<end]))
            return Self.allCases.first { route in
                guard let own = route.path, own.utf8CodeUnitCount == path.count else { return false }
                return memcmp(own.utf8Start, path.baseAddress!, path.count) == 0
            } ?? .other
        }
    }

    /// The path this route answers; nil for ``other``.
    private var path: StaticString? {
        switch self {
        case .token: "/v1/token"
        case .healthz: "/healthz"
        case .readyz: "/readyz"
        case .metrics: "/metrics"
        case .other: nil
        }
    }

    /// The `route` label of request metrics: bounded, whatever paths clients try.
    var label: String { path.map { "\($0)" } ?? "other" }
}
