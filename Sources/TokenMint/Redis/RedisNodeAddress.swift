/// One Redis node or sentinel as `host:port`: what Sentinel answers, what `MOVED` names, what `/readyz` and the logs
/// show of the node in use.
public struct RedisNodeAddress: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, an IPv6 host in brackets.
    public var description: String { "\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    /// Parses `host:port` or `[v6]:port`: the port is required (there is no default that fits both a sentinel and a
    /// data node), from 1 to 65535; the host is letters, digits, `-._` (or an IPv6 address in brackets).
    public static func parse(_ text: Substring) -> RedisNodeAddress? {
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].first == ":" else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
            guard host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }) else {
                return nil
            }
        }
        guard !host.isEmpty, !port.isEmpty, port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }),
            let number = Int(port), (1...65535).contains(number)
        else { return nil }
        return RedisNodeAddress(host: String(host), port: number)
    }

    /// Sentinel's answer to `SENTINEL get-master-addr-by-name`, and `MOVED`'s: a host and a port as text.
    public static func from(host: [UInt8], port: [UInt8]) -> RedisNodeAddress? {
        guard let host = String(validating: host, as: UTF8.self), !host.isEmpty,
            let portText = String(validating: port, as: UTF8.self), let port = Int(portText),
            (1...65535).contains(port)
        else { return nil }
        return RedisNodeAddress(host: host, port: port)
    }
}
