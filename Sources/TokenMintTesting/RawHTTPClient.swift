import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A deliberately dumb HTTP/1.1 client over a plain TCP socket: it sends exactly the bytes a test gives it
/// (malformed ones included) and parses what comes back. Blocking socket calls run on a Dispatch queue, never on the
/// Swift concurrency pool the server under test also uses.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: String

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public func headers(named name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }
}

public struct RawHTTPClient: Sendable {
    public let port: Int
    public var timeoutSeconds = 5

    public init(port: Int, timeoutSeconds: Int = 5) {
        self.port = port
        self.timeoutSeconds = timeoutSeconds
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Builds a request with `Host` and `Content-Length` filled in.
    public static func request(
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: String = "",
        close: Bool = false
    ) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { text += "Content-Length: \(body.utf8.count)\r\n" }
        if close { text += "Connection: close\r\n" }
        return text + "\r\n" + body
    }

    /// Sends one request and returns its response.
    public func send(
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: String = ""
    ) async throws -> HTTPResponse {
        let responses = try await exchange(Self.request(method, path, headers: headers, body: body), expecting: 1)
        guard let first = responses.first else { throw Failure(description: "no response") }
        return first
    }

    /// Writes `raw` on one connection and reads until `expecting` responses arrived or the server closed.
    public func exchange(_ raw: String, expecting: Int) async throws -> [HTTPResponse] {
        let port = self.port
        let timeout = timeoutSeconds
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try Self.blockingExchange(
                            port: port,
                            raw: Array(raw.utf8),
                            expecting: expecting,
                            timeout: timeout
                        )
                    }
                )
            }
        }
    }

    /// Runs `body` on a thread of its own and returns its result. Tests whose client side keeps time (a request
    /// every so often, a byte at a time) run it here: on the shared concurrency pool, another test's blocking call
    /// can stall a sleeping task for longer than the timeout under test, and the test would measure the pool.
    public static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.start()
        }
    }

    /// Sleeps the calling thread; for ``offPool(_:)`` bodies.
    public static func pause(milliseconds: Int) {
        usleep(useconds_t(milliseconds * 1000))
    }

    /// Opens a connection and returns its descriptor, for tests that hold a connection open across an event.
    public static func connect(port: Int, timeout: Int = 5) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "connect to \(port) failed: errno \(errno)")
        }
        return fd
    }

    public static func write(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw Failure(description: "write failed: errno \(errno)") }
            offset += written
        }
    }

    /// Reads responses until `expecting` are complete, the peer closes, or the receive timeout passes.
    public static func read(_ fd: Int32, expecting: Int) throws -> [HTTPResponse] {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let (responses, _) = parse(buffer)
            if responses.count >= expecting { return responses }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return parse(buffer).0 }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }

    public static func blockingExchange(port: Int, raw: [UInt8], expecting: Int, timeout: Int) throws -> [HTTPResponse]
    {
        let fd = try connect(port: port, timeout: timeout)
        defer { close(fd) }
        try write(fd, raw)
        return try read(fd, expecting: expecting)
    }

    /// Parses complete responses (Content-Length framed, as tokenmint always sends).
    public static func parse(_ bytes: [UInt8]) -> ([HTTPResponse], Int) {
        var responses: [HTTPResponse] = []
        var offset = 0
        let separator: [UInt8] = [13, 10, 13, 10]
        while offset < bytes.count {
            guard let end = find(separator, in: bytes, from: offset) else { break }
            let headText = String(decoding: bytes[offset..<end], as: UTF8.self)
            var lines = headText.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, let status = Int(statusLine[1]) else { break }
            let headers = lines.compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
            let bodyStart = end + 4
            guard bytes.count >= bodyStart + length else { break }
            responses.append(
                HTTPResponse(
                    status: status,
                    headers: headers,
                    body: String(decoding: bytes[bodyStart..<(bodyStart + length)], as: UTF8.self)
                )
            )
            offset = bodyStart + length
        }
        return (responses, offset)
    }

    public static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
