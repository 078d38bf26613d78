import Foundation
import Testing
import TokenMintTesting

#if canImport(Glibc)
import Glibc
#endif

/// Secrets rotated while the real binary serves: files swapped the way the kubelet swaps a mounted Secret (a new
/// directory, the `..data` symlink re-pointed), under load from the bundled driver, with no failed request.
@Suite(.serialized) struct SecretRotationTests {
    static let newClientSecret = "client-secret-rotated-0123456789abcdef-012"
    static let newCallerSecret = "caller-secret-rotated-0123456789abcdef-012"
    static let reloadSeconds = 1
    /// How long a test waits for a reload it expects: one poll, plus room for the parallel suite on two cores
    /// (fleets and load drivers included), where a poll and the answer after it were seen to take 2 s and more. A
    /// replica that never reloads still fails it.
    static let reloadWait: Duration = .seconds(reloadSeconds + 8)

    /// The base environment with the client secret (and, if given, the caller secret) read from `mount`.
    static func environment(
        mount: KubeletMount,
        callerSecretFile: Bool = false,
        extra: [String: String] = [:]
    ) -> [String: String] {
        var environment = TokenMintProcess.baseEnvironment
        environment["MIRO_CLIENT_SECRET"] = ""  // empty counts as unset; Replica merges over the base
        environment["MIRO_CLIENT_SECRET_FILE"] = mount.path("client-secret")
        if callerSecretFile {
            environment["CALLER_JWT_HS256_SECRET"] = ""
            environment["CALLER_JWT_HS256_SECRET_FILE"] = mount.path("caller-secret")
        }
        environment["SECRET_RELOAD_SECONDS"] = "\(reloadSeconds)"
        environment.merge(extra) { _, new in new }
        return environment
    }

    static func callerToken(secret: String, audience: String? = nil, lifetime: Int = 600) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let aud = audience.map { #","aud":"\#($0)""# } ?? ""
        return JWTText.sign(
            header: #"{"alg":"HS256","typ":"JWT"}"#,
            claims: #"{"sub":"rotation","exp":\#(now + lifetime)\#(aud)}"#,
            secret: secret
        )
    }

    static func token(
        from replica: Replica,
        callerSecret: String = TokenMintProcess.callerSecret,
        audience: String? = nil
    ) async throws -> HTTPResponse {
        try await RawHTTPClient(port: replica.port).send(
            "POST",
            "/v1/token",
            headers: [("Authorization", "Bearer \(callerToken(secret: callerSecret, audience: audience))")]
        )
    }

    @Test(.timeLimit(.minutes(2)))
    func aNewClientSecretIsServedWithinAPollAndTheOldTokenNeverAgain() async throws {
        let mount = try KubeletMount(files: ["client-secret": TokenMintProcess.clientSecret])
        defer { mount.remove() }
        let replica = try await Replica.one(redisURL: nil, environment: Self.environment(mount: mount))
        let first = try await Self.token(from: replica)
        #expect(first.status == 200 && JWTText.verifies(first.body, secret: TokenMintProcess.clientSecret))

        // No client secret for the driver: tokens signed with either secret are fine to it; this test checks which.
        let load = try LoadRun(targets: [replica], seconds: 5)
        try await Task.sleep(for: .seconds(1))
        try mount.update(["client-secret": Self.newClientSecret])
        let rotated = try await Poll.until(timeout: Self.reloadWait) {
            JWTText.verifies(try await Self.token(from: replica).body, secret: Self.newClientSecret)
        }
        #expect(rotated, "no token signed with the new client secret within \(Self.reloadWait)")
        for _ in 0..<20 {
            let answer = try await Self.token(from: replica)
            #expect(answer.status == 200 && JWTText.verifies(answer.body, secret: Self.newClientSecret))
        }
        let report = try await load.finish()
        #expect(report.passed && report.errors.isEmpty && report.violations.isEmpty, "\(report)")
        #expect(report.distinctTokens >= 2, "the driver saw the rotation: \(report.distinctTokens) tokens")
        #expect(try await replica.metric(#"tokenmint_config_reloads_total{result="ok"}"#) == 1)
        #expect(try await replica.metric(#"tokenmint_config_reloads_total{result="failed"}"#) == 0)
        #expect(try await replica.stop() == 0)
        let logs = replica.process.stdout + replica.process.stderr
        #expect(logs.contains("settings reloaded") && logs.contains("MIRO_CLIENT_SECRET"))
        #expect(!logs.contains(Self.newClientSecret) && !logs.contains(TokenMintProcess.clientSecret))
    }

    @Test(.timeLimit(.minutes(2)))
    func aRedisFleetConvergesOnOneTokenOfTheNewClientSecret() async throws {
        let redis = try await RedisServer()
        let mount = try KubeletMount(files: ["client-secret": TokenMintProcess.clientSecret])
        defer { mount.remove() }
        let fleet = try await Replica.fleet(3, redisURL: redis.url, environment: Self.environment(mount: mount))
        let mintedBefore = try await fleet.mintedTotal()
        #expect(mintedBefore == 1, "the fleet cold-started with one mint")

        let load = try LoadRun(targets: fleet, seconds: 5)
        try await Task.sleep(for: .seconds(1))
        try mount.update(["client-secret": Self.newClientSecret])
        var served: Set<String> = []
        let converged = try await Poll.until(timeout: Self.reloadWait) {
            served = []
            for replica in fleet { served.insert(try await Self.token(from: replica).body) }
            return served.count == 1 && JWTText.verifies(served.first!, secret: Self.newClientSecret)
        }
        #expect(converged, "the fleet did not converge on one new token: \(served.count) distinct")
        let report = try await load.finish()
        #expect(report.passed && report.errors.isEmpty && report.violations.isEmpty, "\(report)")
        #expect(try await fleet.mintedTotal() == mintedBefore + 1, "one mint for the new secret, fleet-wide")
        for replica in fleet {
            #expect(try await replica.redisState() == "ok")
            #expect(try await replica.stop() == 0)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func thePreviousCallerSecretPassesForItsGraceThenOnlyTheNewOne() async throws {
        let mount = try KubeletMount(files: [
            "client-secret": TokenMintProcess.clientSecret, "caller-secret": TokenMintProcess.callerSecret,
        ])
        defer { mount.remove() }
        let grace = 6
        let replica = try await Replica.one(
            redisURL: nil,
            environment: Self.environment(
                mount: mount,
                callerSecretFile: true,
                extra: ["CALLER_SECRET_ROTATION_GRACE_SECONDS": "\(grace)"]
            )
        )
        // Visitors holding tokens of the old secret keep coming through the rotation.
        let load = try LoadRun(targets: [replica], seconds: 3)
        try await Task.sleep(for: .milliseconds(500))
        try mount.update([
            "client-secret": TokenMintProcess.clientSecret, "caller-secret": Self.newCallerSecret,
        ])
        let reloaded = try await Poll.until(timeout: Self.reloadWait) {
            try await Self.token(from: replica, callerSecret: Self.newCallerSecret).status == 200
        }
        #expect(reloaded, "the new caller secret did not pass within \(Self.reloadWait)")
        #expect(try await Self.token(from: replica).status == 200, "the previous secret passes during its grace")
        let report = try await load.finish()
        #expect(report.passed && report.errors.isEmpty && report.violations.isEmpty, "\(report)")

        let refused = try await Poll.until(timeout: .seconds(grace + 6), every: .milliseconds(200)) {
            try await Self.token(from: replica).status == 401
        }
        #expect(refused, "the previous caller secret still passed after its grace")
        #expect(try await Self.token(from: replica, callerSecret: Self.newCallerSecret).status == 200)
        #expect(try await replica.stop() == 0)
        let logs = replica.process.stdout + replica.process.stderr
        #expect(!logs.contains(Self.newCallerSecret) && !logs.contains(TokenMintProcess.callerSecret))
    }

    @Test(.timeLimit(.minutes(2)))
    func aBadNewSecretIsLoggedOnceAndLeftUnapplied() async throws {
        let mount = try KubeletMount(files: [
            "client-secret": TokenMintProcess.clientSecret, "caller-secret": TokenMintProcess.callerSecret,
        ])
        defer { mount.remove() }
        let replica = try await Replica.one(
            redisURL: nil,
            environment: Self.environment(mount: mount, callerSecretFile: true)
        )
        let failed = #"tokenmint_config_reloads_total{result="failed"}"#
        let load = try LoadRun(targets: [replica], seconds: 4)

        // Too short: refused, the old secret stays in force, and later polls of the same files do not retry it.
        let short = "short-secret-XYZ"
        try mount.update(["client-secret": short, "caller-secret": TokenMintProcess.callerSecret])
        let counted = try await Poll.until(timeout: Self.reloadWait) {
            try await replica.metric(failed) == 1
        }
        #expect(counted)
        try await Task.sleep(for: .seconds(Self.reloadSeconds * 2))
        #expect(try await replica.metric(failed) == 1, "a refused set of files is not retried on every poll")
        let answer = try await Self.token(from: replica)
        #expect(answer.status == 200 && JWTText.verifies(answer.body, secret: TokenMintProcess.clientSecret))

        // The caller secret equal to the client secret: refused too, naming the caller secret.
        try mount.update([
            "client-secret": TokenMintProcess.clientSecret, "caller-secret": TokenMintProcess.clientSecret,
        ])
        #expect(
            try await Poll.until(timeout: Self.reloadWait) { try await replica.metric(failed) == 2 }
        )
        #expect(try await Self.token(from: replica).status == 200, "the caller secret in force is unchanged")

        let report = try await load.finish()
        #expect(report.passed && report.errors.isEmpty && report.violations.isEmpty, "\(report)")
        #expect(try await replica.metric(#"tokenmint_config_reloads_total{result="ok"}"#) == 0)
        #expect(try await replica.stop() == 0)
        let logs = replica.process.stdout + replica.process.stderr
        let refusals = logs.split(separator: "\n").filter { $0.contains("settings reload failed") }
        #expect(refusals.count == 2, "\(refusals)")
        #expect(refusals.first?.contains("MIRO_CLIENT_SECRET") == true)
        #expect(refusals.last?.contains("CALLER_JWT_HS256_SECRET") == true)
        #expect(!logs.contains(short) && !logs.contains(TokenMintProcess.clientSecret))
    }

    @Test(.timeLimit(.minutes(2)))
    func sighupReloadsAtOnceWithoutPolling() async throws {
        let mount = try KubeletMount(files: ["client-secret": TokenMintProcess.clientSecret])
        defer { mount.remove() }
        let replica = try await Replica.one(
            redisURL: nil,
            environment: Self.environment(mount: mount, extra: ["SECRET_RELOAD_SECONDS": "0"])
        )
        try mount.update(["client-secret": Self.newClientSecret])
        try await Task.sleep(for: .seconds(2))
        let before = try await Self.token(from: replica)
        #expect(JWTText.verifies(before.body, secret: TokenMintProcess.clientSecret), "no polling with 0")
        replica.process.signal(SIGHUP)
        let reloaded = try await Poll.until(timeout: Self.reloadWait) {
            JWTText.verifies(try await Self.token(from: replica).body, secret: Self.newClientSecret)
        }
        #expect(reloaded, "SIGHUP did not reload")
        #expect(replica.process.process.isRunning, "SIGHUP must not stop the replica")
        #expect(try await replica.stop() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aReloadKeepsTheIdentityProvidersKeys() async throws {
        let provider = try await IdentityProvider()
        let key = try await CallerSigningKey.es256(kid: "idp-1")
        try provider.serve("/jwks.json", CallerSigningKey.jwks([key]))
        let mount = try KubeletMount(files: [
            "client-secret": TokenMintProcess.clientSecret, "caller-secret": TokenMintProcess.callerSecret,
        ])
        defer { mount.remove() }
        let replica = try await Replica.one(
            redisURL: nil,
            environment: Self.environment(
                mount: mount,
                callerSecretFile: true,
                extra: [
                    "CALLER_JWT_JWKS_URL": provider.url("/jwks.json"), "CALLER_JWT_CA_FILE": provider.caFile,
                    "CALLER_JWT_AUDIENCE": "tokenmint", "CALLER_JWT_JWKS_REFRESH_SECONDS": "3600",
                ]
            )
        )
        func post(_ token: String) async throws -> Int {
            try await RawHTTPClient(port: replica.port, timeoutSeconds: 15).send(
                "POST",
                "/v1/token",
                headers: [("Authorization", "Bearer \(token)")]
            ).status
        }
        let ready = try await Poll.until(timeout: .seconds(20), every: .milliseconds(100)) {
            try await post(try await key.sign()) == 200
        }
        #expect(ready, "the identity provider's keys were never loaded")
        let fetches = provider.hits("/jwks.json")

        // Both secrets rotate: the verifier is rebuilt, the key store (and its keys) carried over.
        try mount.update(["client-secret": Self.newClientSecret, "caller-secret": Self.newCallerSecret])
        let reloaded = try await Poll.until(timeout: Self.reloadWait) {
            try await Self.token(from: replica, callerSecret: Self.newCallerSecret, audience: "tokenmint").status
                == 200
        }
        #expect(reloaded, "\(replica.process.stdout)")
        #expect(try await post(try await key.sign()) == 200, "public-key callers pass on, with no refetch")
        #expect(provider.hits("/jwks.json") == fetches)
        #expect(try await replica.readyz().status == 200)
        #expect(try await replica.stop() == 0)
    }

    /// The identity provider's CA bundle rotates like any mounted file: a wrong bundle at start keeps public-key
    /// callers at 503 (the keys cannot be fetched), the right one is trusted from the next fetch without a restart,
    /// and an unreadable one is refused, naming `CALLER_JWT_CA_FILE`, with the keys in use kept.
    @Test(.timeLimit(.minutes(2)))
    func aNewIdentityProviderCAIsTrustedFromTheNextFetch() async throws {
        let provider = try await IdentityProvider()
        let key = try await CallerSigningKey.es256(kid: "idp-1")
        try provider.serve("/jwks.json", CallerSigningKey.jwks([key]))
        let read = { (path: String) in try String(contentsOfFile: path, encoding: .utf8) }
        let mount = try KubeletMount(files: [
            "client-secret": TokenMintProcess.clientSecret, "idp-ca.pem": try read(provider.otherCAFile),
        ])
        defer { mount.remove() }
        let replica = try await Replica.one(
            redisURL: nil,
            environment: Self.environment(
                mount: mount,
                extra: [
                    "CALLER_JWT_JWKS_URL": provider.url("/jwks.json"), "CALLER_JWT_CA_FILE": mount.path("idp-ca.pem"),
                    "CALLER_JWT_AUDIENCE": "tokenmint", "CALLER_JWT_JWKS_REFRESH_SECONDS": "3600",
                ]
            )
        )
        func post() async throws -> Int {
            try await RawHTTPClient(port: replica.port, timeoutSeconds: 15).send(
                "POST",
                "/v1/token",
                headers: [("Authorization", "Bearer \(try await key.sign())")]
            ).status
        }
        // Long enough for a few failed fetches, so the backoff has grown.
        try await Task.sleep(for: .seconds(3))
        #expect(try await post() == 503, "no key can be fetched through the wrong CA")
        #expect(try await replica.readyz().status == 503)

        try mount.update(["client-secret": TokenMintProcess.clientSecret, "idp-ca.pem": try read(provider.caFile)])
        // A poll, then the key store's next wake (at most 5 s), then the fetch.
        let updated = ContinuousClock.now
        let trusted = try await Poll.until(timeout: Self.reloadWait + .seconds(6), every: .milliseconds(100)) {
            try await post() == 200
        }
        let waited = ContinuousClock.now - updated
        #expect(trusted, "the new CA bundle was never trusted: \(replica.process.stdout)")
        if trusted { print("new identity provider CA trusted after \(waited)") }
        #expect(try await replica.readyz().status == 200)

        try mount.update(["client-secret": TokenMintProcess.clientSecret, "idp-ca.pem": "not a certificate"])
        let failed = #"tokenmint_config_reloads_total{result="failed"}"#
        #expect(
            try await Poll.until(timeout: Self.reloadWait) { try await replica.metric(failed) == 1 }
        )
        #expect(try await post() == 200, "the keys in use are kept")
        #expect(try await replica.stop() == 0)
        let logs = replica.process.stdout + replica.process.stderr
        let refusal = logs.split(separator: "\n").first { $0.contains("settings reload failed") }
        #expect(refusal?.contains("CALLER_JWT_CA_FILE") == true, "\(logs)")
    }

    @Test(.timeLimit(.minutes(2)))
    func newRedisTLSFilesAreUsedFromTheNextConnection() async throws {
        let certificates = try TLSCertificates()
        let other = try TLSCertificates()
        let redis = try await RedisServer(tls: .init(certificates: certificates))
        let read = { (path: String) in try String(contentsOfFile: path, encoding: .utf8) }
        // The mounted CA bundle starts out wrong (as a CA rotation half done): the replica serves, degraded.
        let mount = try KubeletMount(files: [
            "client-secret": TokenMintProcess.clientSecret, "ca.pem": try read(other.caFile),
        ])
        defer { mount.remove() }
        let replica = try await Replica.one(
            redisURL: redis.url,
            environment: Self.environment(mount: mount, extra: ["REDIS_TLS_CA_FILE": mount.path("ca.pem")])
        )
        #expect(try await replica.redisState() == "degraded")
        #expect(try await Self.token(from: replica).status == 200)

        try mount.update(["client-secret": TokenMintProcess.clientSecret, "ca.pem": try read(certificates.caFile)])
        let joined = try await Poll.until(timeout: Self.reloadWait) {
            try await replica.redisState() == "ok"
        }
        #expect(joined, "the new CA bundle was not used by the next connection")
        #expect(try redis.cli(["GET", RedisFleetTests.tokenKey]) == (try await Self.token(from: replica).body))
        #expect(try await replica.stop() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aNewRedisPasswordIsUsedFromTheNextConnection() async throws {
        let oldPassword = "redis-password-old-0123456789"
        let newPassword = "redis-password-new-0123456789"
        let redis = try await RedisServer(password: oldPassword)
        let mount = try KubeletMount(files: [
            "client-secret": TokenMintProcess.clientSecret, "redis-password": oldPassword,
        ])
        defer { mount.remove() }
        let replica = try await Replica.one(
            redisURL: redis.url,
            environment: Self.environment(mount: mount, extra: ["REDIS_PASSWORD_FILE": mount.path("redis-password")])
        )
        #expect(try await replica.redisState() == "ok")
        let shared = try await Self.token(from: replica).body

        // The server takes the new password first (connections already open stay authenticated), then the Secret.
        _ = try redis.cli(["CONFIG", "SET", "requirepass", newPassword])
        try mount.update(["client-secret": TokenMintProcess.clientSecret, "redis-password": newPassword])
        let reloaded = try await Poll.until(timeout: Self.reloadWait) {
            try await replica.metric(#"tokenmint_config_reloads_total{result="ok"}"#) == 1
        }
        #expect(reloaded)
        // The new connection authenticated with the new password and adopted the shared token; with the old one it
        // would have been refused (WRONGPASS) and the replica degraded.
        #expect(try await replica.redisState() == "ok")
        #expect(try await Self.token(from: replica).body == shared)
        #expect(try await replica.metric("tokenmint_degraded") == 0)
        #expect(try await replica.metric("tokenmint_redis_errors_total") == 0)
        #expect(try await replica.stop() == 0)
        let logs = replica.process.stdout + replica.process.stderr
        let connections = logs.split(separator: "\n").filter { $0.contains("redis-shared mode") }.count
        #expect(connections == 2, "the reload opened a connection of its own: \(connections) pipelines")
        #expect(!logs.contains(oldPassword) && !logs.contains(newPassword))
    }
}

/// `tokenmint-load` against some replicas, in the background, with its JSON report read at the end.
struct LoadRun {
    let driver: TokenMintProcess
    let report: URL

    init(targets: [Replica], seconds: Int, extra: [String] = []) throws {
        report = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-load-\(UUID()).json")
        let arguments =
            targets.map { "http://127.0.0.1:\($0.port)" } + [
                "--duration", "\(seconds)", "--warmup", "0", "--connections", "4", "--users", "200",
                "--caller-secret", TokenMintProcess.callerSecret, "--client-id", TokenMintProcess.clientID,
                "--json", report.path, "--quiet",
            ] + extra
        driver = try TokenMintProcess(
            environment: TokenMintProcess.baseEnvironment,
            arguments: arguments,
            executable: TokenMintProcess.product(named: "tokenmint-load")
        )
    }

    /// Waits, bounded, for the driver to finish and reads its report.
    func finish() async throws -> LoadDriverTests.Report {
        _ = try await driver.waitForExit(timeout: .seconds(60))
        defer { try? FileManager.default.removeItem(at: report) }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(LoadDriverTests.Report.self, from: Data(contentsOf: report))
    }
}
