import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real HTTPS identity provider for one test: `python3`'s `http.server` behind `ssl`, on a free loopback port,
/// with a certificate for `127.0.0.1` signed by a CA made for the test with the `openssl` CLI (and a second,
/// unrelated CA for the wrong-CA case). It serves whatever documents the test puts in place, answers every request
/// with a chosen status or after a chosen delay when told to, and records each request's path, so that tests count fetches.
///
/// Killed (and its directory removed) when the test lets go of it.
public final class IdentityProvider: @unchecked Sendable {
    public let directory: URL
    public private(set) var port = 0
    private var process: Process?

    /// The CA that signed the server's certificate: `CALLER_JWT_CA_FILE`.
    public var caFile: String { directory.appendingPathComponent("ca.pem").path }
    /// A CA that signed nothing this server presents.
    public var otherCAFile: String { directory.appendingPathComponent("other-ca.pem").path }
    public var origin: String { "https://127.0.0.1:\(port)" }

    public init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-idp-\(UUID())")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("docs"),
            withIntermediateDirectories: true
        )
        try makeCertificates()
        try Self.script.write(to: directory.appendingPathComponent("server.py"), atomically: true, encoding: .utf8)
        try await start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts (or restarts, on the same port) the server and waits, bounded, for it to listen.
    public func start() async throws {
        let portFile = directory.appendingPathComponent("port")
        try? FileManager.default.removeItem(at: portFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", directory.appendingPathComponent("server.py").path, directory.path, "\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: touch("server.log"))
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let bound = Int(text) {
                port = bound
                return
            }
            guard process.isRunning else { throw Failure(description: "the provider exited: \(log)") }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw Failure(description: "the provider did not listen: \(log)")
    }

    /// SIGKILL: the provider is down; connections to its port are refused.
    public func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Serves `body` at `path` (e.g. `/jwks.json`) from now on.
    public func serve(_ path: String, _ body: String) throws {
        let target = documentURL(path)
        let temporary = target.appendingPathExtension("tmp")
        try body.write(to: temporary, atomically: false, encoding: .utf8)
        _ = rename(temporary.path, target.path)
    }

    /// Stops serving `path`: it answers 404 from now on.
    public func remove(_ path: String) {
        try? FileManager.default.removeItem(at: documentURL(path))
    }

    /// Answers every request with `status` (and a junk body) until set back to nil.
    public func answerEverything(with status: Int?) throws {
        let file = directory.appendingPathComponent("status")
        if let status {
            try "\(status)".write(to: file, atomically: true, encoding: .utf8)
        } else {
            try? FileManager.default.removeItem(at: file)
        }
    }

    /// Holds every answer back this many seconds (after recording the request) until set back to nil.
    public func delayEverything(by seconds: Double?) throws {
        let file = directory.appendingPathComponent("delay")
        if let seconds {
            try "\(seconds)".write(to: file, atomically: true, encoding: .utf8)
        } else {
            try? FileManager.default.removeItem(at: file)
        }
    }

    /// How many requests reached `path` so far.
    public func hits(_ path: String) -> Int {
        let text = (try? String(contentsOf: directory.appendingPathComponent("hits"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0 == path }.count
    }

    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
    }

    public func url(_ path: String) -> String { origin + path }

    private func documentURL(_ path: String) -> URL {
        let name = path.replacingOccurrences(of: "/", with: "_")
        return directory.appendingPathComponent("docs").appendingPathComponent(name)
    }

    private func touch(_ name: String) -> URL {
        let url = directory.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        return url
    }

    // MARK: Certificates

    private func makeCertificates() throws {
        let path = directory.path
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=tokenmint test CA", "-keyout", "\(path)/ca.key", "-out", "\(path)/ca.pem",
        ])
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=tokenmint other CA", "-keyout", "\(path)/other-ca.key", "-out", "\(path)/other-ca.pem",
        ])
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "\(path)/server.key", "-out", "\(path)/server.csr",
        ])
        try "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n".write(
            to: directory.appendingPathComponent("server.ext"),
            atomically: true,
            encoding: .utf8
        )
        try openssl([
            "x509", "-req", "-in", "\(path)/server.csr", "-CA", "\(path)/ca.pem", "-CAkey", "\(path)/ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "\(path)/server.ext", "-out", "\(path)/server.pem",
        ])
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { usleep(5_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw Failure(description: "openssl \(arguments.first ?? "") timed out")
        }
        guard process.terminationStatus == 0 else {
            throw Failure(description: "openssl \(arguments.prefix(2)) failed")
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The server: one thread per connection, loopback only; paths map to files under `docs/`; each request's
    /// path is appended to `hits`; a `status` file makes every answer that status. Exits when its parent dies.
    static let script = #"""
        import http.server, os, ssl, sys, threading, time

        directory, port = sys.argv[1], int(sys.argv[2])
        parent = os.getppid()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10

            def do_GET(self):
                with open(os.path.join(directory, "hits"), "a") as hits:
                    hits.write(self.path.split("?")[0] + "\n")
                delay_file = os.path.join(directory, "delay")
                if os.path.exists(delay_file):
                    with open(delay_file) as f:
                        time.sleep(float(f.read().strip()))
                status_file = os.path.join(directory, "status")
                if os.path.exists(status_file):
                    with open(status_file) as f:
                        status = int(f.read().strip())
                    self.answer(status, b"<html>the provider is having a bad day</html>", "text/html")
                    return
                name = self.path.split("?")[0].replace("/", "_")
                try:
                    with open(os.path.join(directory, "docs", name), "rb") as f:
                        body = f.read()
                except OSError:
                    self.answer(404, b"{}", "application/json")
                    return
                self.answer(200, body, "application/json")

            def answer(self, status, body, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.path.join(directory, "server.pem"), os.path.join(directory, "server.key"))
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)

        def orphaned():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)

        threading.Thread(target=orphaned, daemon=True).start()
        with open(os.path.join(directory, "port.tmp"), "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
        server.serve_forever()
        """#
}
