/// A base URL to load, `http://host[:port]`. Plain HTTP only: the driver measures the service, and TLS in front of
/// it (an ingress) is a different thing to size.
public struct TargetURL: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let path: String

    public var description: String { "http://\(hostForURL):\(port)" }
    /// The value of the `Host` header.
    var hostHeader: String { port == 80 ? hostForURL : "\(hostForURL):\(port)" }
    private var hostForURL: String { host.contains(":") ? "[\(host)]" : host }

    /// Parses `http://host[:port][/prefix]`; the token route is `<prefix>/v1/token`.
    public init?(_ text: String) {
        guard text.hasPrefix("http://") else { return nil }
        var rest = Substring(text.dropFirst("http://".count))
        var prefix = ""
        if let slash = rest.firstIndex(of: "/") {
            prefix = String(rest[slash...])
            rest = rest[..<slash]
        }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { return nil }
        var port = 80
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else { return nil }
            port = value
        }
        self.host = String(host)
        self.port = port
        self.path = prefix + "/v1/token"
    }
}
