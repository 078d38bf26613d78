import Foundation

/// A throwaway certificate authority with a server and a client certificate, made with the `openssl` command for one
/// test: the server's names are `localhost` and `127.0.0.1`. Removed when the test lets go of it.
public final class TLSCertificates: Sendable {
    public let directory: URL
    public var caFile: String { path("ca.pem") }
    public var serverCertificateFile: String { path("server.pem") }
    public var serverKeyFile: String { path("server.key") }
    public var clientCertificateFile: String { path("client.pem") }
    public var clientKeyFile: String { path("client.key") }

    static let openssl = "/usr/bin/openssl"

    /// - Parameter serverNames: the server certificate's subject alternative names.
    public init(serverNames: [String] = ["DNS:localhost", "IP:127.0.0.1"]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-tls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(
            ["req", "-x509", "-new"] + key + [
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=tokenmint test CA",
            ]
        )
        for (name, usage, names) in [
            ("server", "serverAuth", serverNames), ("client", "clientAuth", ["DNS:tokenmint-replica"]),
        ] {
            try "subjectAltName=\(names.joined(separator: ","))\nextendedKeyUsage=\(usage)\n"
                .write(to: directory.appendingPathComponent("\(name).ext"), atomically: true, encoding: .utf8)
            try run(["req", "-new"] + key + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name)"])
            try run([
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext",
            ])
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.openssl)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(5_000) }
        if process.isRunning {
            process.terminate()
            throw RedisServer.Failure(description: "openssl \(arguments[0]) timed out")
        }
        guard process.terminationStatus == 0 else {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw RedisServer.Failure(description: "openssl \(arguments[0]) failed: \(text)")
        }
    }
}
