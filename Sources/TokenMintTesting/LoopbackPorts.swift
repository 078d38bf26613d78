import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports for test servers: none handed out again until the rest of the range has been, none the kernel
/// hands out itself.
///
/// A test that kills a server and expects its clients to notice relies on nobody else taking the dead server's port.
/// A port from `bind(0)` comes from `ip_local_port_range`, where the kernel keeps handing out ports: to the next
/// `bind(0)` (tokenmint with `PORT=0`, another test's server) and as the source port of outgoing connections (and a
/// connection to a port nobody listens on connects to itself when its source port is that port). So these ports come
/// from just below that range, in order from a random start (two test processes at once rarely meet), each checked
/// free by binding it.
public enum LoopbackPorts {
    /// How many ports below `ip_local_port_range` are used.
    static let span = 12_000

    private static let state = Mutex(Allocator.make())

    /// A loopback port nobody listens on now, outside the kernel's own range, not handed out again by this process
    /// before every other port of the range has been.
    public static func reserve() throws -> Int {
        try state.withLock { allocator in
            for _ in 0..<allocator.range.count {
                let port = allocator.advance()
                if isFree(port) { return port }
            }
            throw RedisServer.Failure(description: "no free loopback port in \(allocator.range)")
        }
    }

    struct Allocator {
        let range: Range<Int>
        var cursor: Int

        static func make() -> Allocator {
            let range = ports(outside: kernelRange() ?? 32_768..<61_000)
            return Allocator(range: range, cursor: Int.random(in: range))
        }

        /// Up to ``span`` ports just below `kernel`, or where too few are left below it, just above it. A kernel
        /// range that leaves fewer than 1,000 either side (`1024 65535`) cannot be avoided: then ports from the
        /// middle of the unprivileged ones, still handed out once per pass.
        static func ports(outside kernel: Range<Int>) -> Range<Int> {
            let below = max(1_024, kernel.lowerBound - span)..<max(1_024, kernel.lowerBound)
            if below.count >= 1_000 { return below }
            let start = min(65_536, max(1_024, kernel.upperBound))
            let above = start..<min(65_536, start + span)
            if above.count >= 1_000 { return above }
            return 20_000..<(20_000 + span)
        }

        /// The next port in the range, wrapping around; every port once per pass.
        mutating func advance() -> Int {
            let port = cursor
            cursor = cursor + 1 == range.upperBound ? range.lowerBound : cursor + 1
            return port
        }
    }

    /// `/proc/sys/net/ipv4/ip_local_port_range` as a half-open range; nil where it cannot be read.
    static func kernelRange() -> Range<Int>? {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) else {
            return nil
        }
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else { return nil }
        return bounds[0]..<(bounds[1] + 1)
    }

    /// Whether `port` can be bound on 127.0.0.1 now (nobody listens on it, nothing holds it).
    static func isFree(_ port: Int) -> Bool {
        guard let fd = bindSocket(port: port, listening: false) else { return false }
        close(fd)
        return true
    }

    /// A TCP socket bound to 127.0.0.1:`port` (listening, with `listening`), for the caller to close; nil when the
    /// port cannot be bound.
    public static func bindSocket(port: Int, listening: Bool) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 && (!listening || listen(fd, 64) == 0)
            }
        }
        guard bound else {
            close(fd)
            return nil
        }
        return fd
    }
}
