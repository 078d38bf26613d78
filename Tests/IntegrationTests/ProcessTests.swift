import Foundation
import Testing
import TokenMintTesting

#if canImport(Glibc)
import Glibc
#endif

/// The executable as an operator runs it: settings that stop startup, `--help`, `--dev`, and SIGTERM.
@Suite(.serialized) struct ProcessTests {
    @Test(arguments: [
        (["TOKEN_TTL_SECONDS": "90000"], "TOKEN_TTL_SECONDS"),
        (["MIRO_CLIENT_SECRET": ""], "MIRO_CLIENT_SECRET"),
        (["MIRO_CLIENT_SECRET": "0123456789abcdef"], "MIRO_CLIENT_SECRET"),
        (["CALLER_JWT_HS256_SECRET": TokenMintProcess.clientSecret], "CALLER_JWT_HS256_SECRET"),
        (["CORS_ALLOWED_ORIGINS": "*"], "CORS_ALLOWED_ORIGINS"),
        (["MIRO_CLIENT_SECRET_FILE": "/etc/hostname"], "MIRO_CLIENT_SECRET_FILE"),
        (
            ["CALLER_JWT_PUBLIC_KEY_FILE": "/nonexistent.pem", "CALLER_JWT_AUDIENCE": "tm"],
            "CALLER_JWT_PUBLIC_KEY_FILE"
        ),
        // A public key without an audience accepts tokens the provider issued to anyone.
        (["CALLER_JWT_PUBLIC_KEY_FILE": "/nonexistent.pem"], "CALLER_JWT_AUDIENCE"),
        (["CALLER_JWT_JWKS_URL": "https://idp.example/jwks"], "CALLER_JWT_AUDIENCE"),
        (["CALLER_JWT_JWKS_URL": "http://idp.example/jwks", "CALLER_JWT_AUDIENCE": "tm"], "CALLER_JWT_JWKS_URL"),
        (
            [
                "CALLER_JWT_JWKS_URL": "https://127.0.0.1:1/jwks", "CALLER_JWT_AUDIENCE": "tm",
                "CALLER_JWT_CA_FILE": "/etc/hostname",
            ], "CALLER_JWT_CA_FILE"
        ),
        (["CALLER_JWT_DISCOVERY": "true", "CALLER_JWT_ALLOW_ANY_AUDIENCE": "true"], "CALLER_JWT_DISCOVERY"),
        (["CALLER_JWT_MAX_LIFETIME_SECONDS": "forever"], "CALLER_JWT_MAX_LIFETIME_SECONDS"),
        (["CALLER_JWT_TYPES": "JWT, a b"], "CALLER_JWT_TYPES"),
        (["REDIS_URL": "http://127.0.0.1:6379"], "REDIS_URL"),
        (["REDIS_URL": "rediss://127.0.0.1:6380", "REDIS_TLS_CERT_FILE": "/etc/hostname"], "REDIS_TLS_KEY_FILE"),
        (["REDIS_URL": "rediss://127.0.0.1:6380", "REDIS_TLS_KEY_FILE": "/etc/hostname"], "REDIS_TLS_CERT_FILE"),
        (
            [
                "REDIS_URL": "rediss://:pw@127.0.0.1", "REDIS_TLS_CERT_FILE": "/etc/hostname",
                "REDIS_TLS_KEY_FILE": "/etc/hostname",
            ],
            "REDIS_TLS_CERT_FILE"
        ),
        (["REDIS_URL": "rediss://127.0.0.1:6380", "REDIS_TLS_CA_FILE": "/etc/hostname"], "REDIS_TLS_CA_FILE"),
        (["REDIS_URL": "redis://127.0.0.1:6380", "REDIS_TLS_CA_FILE": "/etc/hostname"], "REDIS_TLS_CA_FILE"),
        (["REDIS_URL": "redis://:pw@127.0.0.1:notaport"], "REDIS_URL"),
        (["REDIS_URL": "redis://127.0.0.1", "REDIS_COMMAND_TIMEOUT_MS": "soon"], "REDIS_COMMAND_TIMEOUT_MS"),
        (["REDIS_SENTINELS": "127.0.0.1", "REDIS_SENTINEL_MASTER": "mymaster"], "REDIS_SENTINELS"),
        (["REDIS_SENTINELS": "127.0.0.1:26379", "REDIS_SENTINEL_MASTER": ""], "REDIS_SENTINEL_MASTER"),
        (
            [
                "REDIS_URL": "redis://127.0.0.1", "REDIS_SENTINELS": "127.0.0.1:26379",
                "REDIS_SENTINEL_MASTER": "mymaster",
            ], "REDIS_URL"
        ),
        (["REDIS_CLUSTER": "true"], "REDIS_CLUSTER"),
        // TEST-NET-1: not an address of this machine.
        (["HOST": "192.0.2.1"], "HOST"),
    ])
    func badSettingsStopStartup(changes: [String: String], variable: String) async throws {
        var environment = TokenMintProcess.baseEnvironment
        environment.merge(changes) { _, new in new }
        let process = try TokenMintProcess(environment: environment)
        let status = try await process.waitForExit()
        #expect(status == 2)
        let lines = process.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(process.stderr)")
        #expect(lines.first?.hasPrefix("tokenmint: \(variable):") == true, "\(process.stderr)")
        #expect(!process.stderr.contains(TokenMintProcess.clientSecret))
        #expect(!process.stderr.contains("0123456789abcdef\n"))
    }

    @Test func aTakenPortStopsStartupWithAClearMessage() async throws {
        let first = try TokenMintProcess(environment: TokenMintProcess.baseEnvironment)
        let port = try await first.port()
        var environment = TokenMintProcess.baseEnvironment
        environment["PORT"] = String(port)
        let second = try TokenMintProcess(environment: environment)
        #expect(try await second.waitForExit() == 2)
        #expect(second.stderr.contains("tokenmint: PORT: cannot listen on 127.0.0.1:\(port)"), "\(second.stderr)")
        first.signal(SIGTERM)
        #expect(try await first.waitForExit() == 0)
    }

    @Test func helpListsEverySetting() async throws {
        let process = try TokenMintProcess(environment: [:], arguments: ["--help"])
        #expect(try await process.waitForExit() == 0)
        for name in [
            "MIRO_CLIENT_ID", "MIRO_CLIENT_SECRET[_FILE]", "TOKEN_TTL_SECONDS", "CALLER_JWT_JWKS_FILE",
            "CALLER_JWT_JWKS_URL", "CALLER_JWT_DISCOVERY", "CALLER_JWT_CA_FILE", "CALLER_JWT_JWKS_REFRESH_SECONDS",
            "CALLER_JWT_ALLOW_ANY_AUDIENCE", "CALLER_JWT_MAX_LIFETIME_SECONDS", "CALLER_JWT_TYPES",
            "CORS_ALLOWED_ORIGINS", "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "REDIS_SENTINEL_PASSWORD[_FILE]",
            "REDIS_SENTINEL_TLS", "REDIS_DB", "REDIS_CLUSTER", "REDIS_HEALTH_CHECK_SECONDS", "--dev",
        ] {
            #expect(process.stdout.contains(name), "\(name)")
        }
    }

    @Test func devModePrintsAWorkingCurlCommand() async throws {
        let process = try TokenMintProcess(environment: ["PORT": "0", "PATH": "/usr/bin:/bin"], arguments: ["--dev"])
        let port = try await process.port()
        let deadline = ContinuousClock.now + .seconds(10)
        while !process.stdout.contains("curl"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let line = try #require(process.stdout.split(separator: "\n").first { $0.contains("curl") })
        let token = try #require(
            line.split(separator: " ").last?.trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        )
        #expect(line.contains("http://127.0.0.1:\(port)/v1/token"))
        let response = try await RawHTTPClient(port: port).send(
            "POST",
            "/v1/token",
            headers: [("Authorization", "Bearer \(token)")]
        )
        #expect(response.status == 200)
        process.signal(SIGTERM)
        #expect(try await process.waitForExit() == 0)
        #expect(process.stderr.contains("token issued"))
        #expect(!process.stderr.contains(response.body))
        #expect(!process.stderr.contains(token))
    }

    /// A SIGTERM sent the moment the replica announces itself drains it (exit 0) rather than killing it: the socket
    /// is bound only after SIGTERM is trapped (before that, each round here failed: the default action killed it).
    @Test func aSIGTERMAsSoonAsItListensStillExitsCleanly() async throws {
        for _ in 0..<5 {
            let process = try TokenMintProcess(
                environment: ["PORT": "0", "PATH": "/usr/bin:/bin"],
                arguments: ["--dev"]
            )
            let deadline = ContinuousClock.now + .seconds(10)
            while !process.stdout.contains("curl"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
            process.signal(SIGTERM)
            #expect(try await process.waitForExit() == 0, "\(process.stderr)")
            #expect(process.stderr.contains("stopped"), "\(process.stderr)")
        }
    }

    /// SIGTERM: readiness turns 503 for requests in flight, new connections are refused, in-flight requests finish,
    /// and the process exits 0.
    @Test func sigtermDrains() async throws {
        let process = try TokenMintProcess(environment: TokenMintProcess.baseEnvironment)
        let port = try await process.port()
        let token = try await RawHTTPClient(port: port).send(
            "POST",
            "/v1/token",
            headers: [("Authorization", "Bearer \(Self.callerToken())")]
        )
        #expect(token.status == 200)

        // Two requests in flight: heads sent, bodies (one byte each) not yet.
        let tokenConnection = try RawHTTPClient.connect(port: port)
        defer { close(tokenConnection) }
        try RawHTTPClient.write(
            tokenConnection,
            Array(
                "POST /v1/token HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(Self.callerToken())\r\nContent-Length: 1\r\n\r\n"
                    .utf8
            )
        )
        let readyConnection = try RawHTTPClient.connect(port: port)
        defer { close(readyConnection) }
        try RawHTTPClient.write(
            readyConnection,
            Array("GET /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n".utf8)
        )
        try await Task.sleep(for: .milliseconds(200))

        process.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(300))
        #expect(process.process.isRunning, "exited before in-flight requests finished")
        #expect(throws: (any Error).self) { _ = try RawHTTPClient.connect(port: port, timeout: 1) }

        try RawHTTPClient.write(readyConnection, [UInt8(ascii: "x")])
        let ready = try RawHTTPClient.read(readyConnection, expecting: 1)
        #expect(ready.first?.status == 503)
        #expect(ready.first?.body.contains("draining") == true)

        try RawHTTPClient.write(tokenConnection, [UInt8(ascii: "x")])
        let served = try RawHTTPClient.read(tokenConnection, expecting: 1)
        #expect(served.first?.status == 200)
        #expect(served.first?.body == token.body)

        #expect(try await process.waitForExit(timeout: .seconds(15)) == 0)
        #expect(process.stdout.contains("drained"))
    }

    /// Kubernetes runs the image as uid 65532 (`runAsNonRoot`): a replica must serve as a user without privileges.
    /// Tests run as root in CI, where a socket option only root may set (SO_DEBUG, set by mistake for TCP_NODELAY)
    /// passed while every connection of the unprivileged replica was reset. When the tests run as root, a copy of
    /// the binary (the build directory may sit where 65532 cannot reach it) is started as 65532 through util-linux's
    /// `setpriv`.
    @Test func servesAsAnUnprivilegedUser() async throws {
        let asRoot = getuid() == 0
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tokenmint-unprivileged-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent("tokenmint")
        try FileManager.default.copyItem(at: TokenMintProcess.binary, to: binary)
        for path in [directory.path, binary.path] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let dropPrivileges = ["--reuid=65532", "--regid=65532", "--clear-groups", binary.path]
        let process = try TokenMintProcess(
            environment: TokenMintProcess.baseEnvironment,
            arguments: asRoot ? dropPrivileges : [],
            executable: asRoot ? URL(fileURLWithPath: "/usr/bin/setpriv") : TokenMintProcess.binary
        )
        let replica = Replica(process: process, port: try await process.port())
        let status = try String(contentsOfFile: "/proc/\(process.process.processIdentifier)/status", encoding: .utf8)
        let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }
        let uid = uidLine?.split(separator: "\t").dropFirst().first
        #expect(uid.map(String.init) != "0", "runs as uid \(uid ?? "?")")
        for _ in 0..<3 { #expect(try await replica.token().status == 200) }
        #expect(try await replica.readyz().status == 200)
        #expect(try await replica.stop() == 0)
    }

    /// A container's soft limit on open files is often far below its hard one: raised at start, so a busy replica
    /// does not run out of descriptors (with none left, SwiftNIO's accept loop spins a core).
    @Test func raisesTheOpenFileLimitToTheHardLimit() async throws {
        let process = try TokenMintProcess(
            environment: TokenMintProcess.baseEnvironment,
            arguments: ["--nofile=256:4096", TokenMintProcess.binary.path],
            executable: URL(fileURLWithPath: "/usr/bin/prlimit")
        )
        _ = try await process.port()
        let limits = try String(contentsOfFile: "/proc/\(process.process.processIdentifier)/limits", encoding: .utf8)
        let openFiles = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") }
        let values = openFiles?.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).prefix(2)
        #expect(values.map(Array.init) == ["4096", "4096"], "\(openFiles ?? "no limits line")")
        #expect(process.stdout.contains("raised the open file limit"))
        process.signal(SIGTERM)
        #expect(try await process.waitForExit() == 0)
    }

    static func callerToken() -> String {
        let now = Int(Date().timeIntervalSince1970)
        return JWTText.sign(
            header: #"{"alg":"HS256","typ":"JWT"}"#,
            claims: #"{"sub":"ops","exp":\#(now + 600)}"#,
            secret: TokenMintProcess.callerSecret
        )
    }
}
