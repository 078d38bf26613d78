import Foundation
import Testing
import TokenMintTesting

#if canImport(Glibc)
import Glibc
#endif

/// Caller tokens from a real HTTPS identity provider (``IdentityProvider``: python3's `ssl` with a CA and a server
/// certificate made for the test), verified by the real `tokenmint` binary: keys by `kid`, rotation under load,
/// an unknown-`kid` flood, the provider down, a wrong CA, and OIDC discovery.
@Suite(.serialized) struct IdentityProviderTests {
    static let jwksPath = "/jwks.json"

    func environment(_ provider: IdentityProvider, _ changes: [String: String] = [:]) -> [String: String] {
        var environment = TokenMintProcess.baseEnvironment
        environment["CALLER_JWT_JWKS_URL"] = provider.url(Self.jwksPath)
        environment["CALLER_JWT_CA_FILE"] = provider.caFile
        environment["CALLER_JWT_AUDIENCE"] = "tokenmint"
        environment.merge(changes) { _, new in new }
        return environment
    }

    func post(_ port: Int, _ token: String) async throws -> HTTPResponse {
        try await RawHTTPClient(port: port, timeoutSeconds: 15).send(
            "POST",
            "/v1/token",
            headers: [("Authorization", "Bearer \(token)")]
        )
    }

    /// Polls, bounded, until `condition` holds.
    func eventually(
        timeout: Duration = .seconds(30),
        _ what: String,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what)")
        throw TokenMintProcess.Timeout(description: what)
    }

    func metric(_ port: Int, _ name: String) async throws -> Double? {
        let body = try await RawHTTPClient(port: port).send("GET", "/metrics").body
        for line in body.split(separator: "\n") where line.hasPrefix(name + " ") || line.hasPrefix(name + "{") {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    func ready(_ port: Int) async throws -> Bool {
        try await RawHTTPClient(port: port).send("GET", "/readyz").status == 200
    }

    /// A token whose header names `kid` and whose signature is junk: refused on the `kid` before any signature.
    static func unknownKIDToken(_ kid: String) -> String {
        JWTText.base64URL(Array(#"{"alg":"ES256","kid":"\#(kid)"}"#.utf8)) + "."
            + JWTText.base64URL(
                Array(#"{"sub":"x","aud":"tokenmint","exp":\#(Int(Date().timeIntervalSince1970) + 60)}"#.utf8)
            )
            + "." + JWTText.base64URL([UInt8](repeating: 1, count: 64))
    }

    @Test(.timeLimit(.minutes(2)))
    func verifiesRS256ES256AndEdDSATokensByKID() async throws {
        let provider = try await IdentityProvider()
        let rsa = try await CallerSigningKey.rs256(kid: "rsa-1")
        let ec = try await CallerSigningKey.es256(kid: "ec-1")
        let ed = await CallerSigningKey.ed25519(kid: "ed-1")
        let encryption = try await CallerSigningKey.es256(kid: "enc-1")
        let verifyless = try await CallerSigningKey.es256(kid: "ops-1")
        try provider.serve(
            Self.jwksPath,
            CallerSigningKey.jwks(
                [rsa, ec, ed],
                extra: [
                    encryption.jwk.replacingOccurrences(of: #""alg":"ES256""#, with: #""alg":"ES256","use":"enc""#),
                    verifyless.jwk.replacingOccurrences(
                        of: #""alg":"ES256""#,
                        with: #""alg":"ES256","key_ops":["sign"]"#
                    ),
                ]
            )
        )
        let server = try TokenMintProcess(environment: environment(provider))
        let port = try await server.port()
        try await eventually("readiness") { try await ready(port) }

        for key in [rsa, ec, ed] {
            let response = try await post(port, try await key.sign())
            #expect(response.status == 200, "\(key.kid): \(response.body)")
            // Another application's token from the same provider: right signature, wrong audience.
            let other = try await post(port, try await key.sign(audience: "someone-else"))
            #expect(other.status == 401, "\(key.kid)")
            #expect(other.body.contains("aud"))
        }
        // Keys published for encryption, or not for verification, are skipped with a warning.
        for key in [encryption, verifyless] {
            let response = try await post(port, try await key.sign())
            #expect(response.status == 401, "\(key.kid)")
            #expect(response.body.contains("kid"), "\(response.body)")
        }
        try await eventually("the skipped-key warnings") {
            server.stdout.contains("use is not sig") && server.stdout.contains("key_ops without verify")
        }
        // A kid signed by a key the provider does not publish: one refetch, then 401.
        let stranger = try await CallerSigningKey.es256(kid: "ec-1")
        #expect(try await post(port, try await stranger.sign()).status == 401)
        #expect(try await metric(port, "tokenmint_caller_keys_refresh_failures_total") == 0)
        #expect((try await metric(port, "tokenmint_caller_keys_age_seconds") ?? -1) >= 0)
        #expect(!server.stdout.contains(try await ec.sign()))
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test(.timeLimit(.minutes(3)))
    func rotationUnderLoadFailsNoRequestAndTheDroppedKIDIsRefusedAfterTheNextRefresh() async throws {
        let provider = try await IdentityProvider()
        let old = try await CallerSigningKey.es256(kid: "2026-11")
        let new = try await CallerSigningKey.es256(kid: "2026-12")
        try provider.serve(Self.jwksPath, CallerSigningKey.jwks([old]))
        let server = try TokenMintProcess(environment: environment(provider, ["CALLER_JWT_JWKS_REFRESH_SECONDS": "5"]))
        let port = try await server.port()
        try await eventually("readiness") { try await ready(port) }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-rotation-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func driver(_ key: CallerSigningKey, seconds: Int) throws -> (TokenMintProcess, URL) {
            let pem = directory.appendingPathComponent("\(key.kid).pem")
            try key.privatePEM!.write(to: pem, atomically: true, encoding: .utf8)
            let json = directory.appendingPathComponent("\(key.kid).json")
            let process = try TokenMintProcess(
                environment: TokenMintProcess.baseEnvironment,
                arguments: [
                    "http://127.0.0.1:\(port)", "--duration", "\(seconds)", "--warmup", "0", "--connections", "4",
                    "--users", "200", "--caller-key", pem.path, "--caller-key-id", key.kid, "--caller-audience",
                    "tokenmint", "--client-secret", TokenMintProcess.clientSecret, "--client-id",
                    TokenMintProcess.clientID, "--max-error-ratio", "0", "--json", json.path, "--quiet",
                ],
                executable: TokenMintProcess.product(named: "tokenmint-load")
            )
            return (process, json)
        }
        struct Report: Decodable {
            let requests: Int
            let succeeded: Int
            let errors: [String: Int]
            let violations: [String: Int]
            let passed: Bool
        }
        func report(_ url: URL) throws -> Report { try JSONDecoder().decode(Report.self, from: Data(contentsOf: url)) }

        // The old key under load; the provider publishes the new one beside it; a second population signs with
        // the new key while the first goes on; then the provider drops the old key.
        let (first, firstJSON) = try driver(old, seconds: 6)
        try await Task.sleep(for: .seconds(2))
        try provider.serve(Self.jwksPath, CallerSigningKey.jwks([old, new]))
        let (second, secondJSON) = try driver(new, seconds: 8)
        #expect(try await first.waitForExit(timeout: .seconds(60)) == 0, "\(first.stdout)\(first.stderr)")
        try provider.serve(Self.jwksPath, CallerSigningKey.jwks([new]))
        #expect(try await second.waitForExit(timeout: .seconds(60)) == 0, "\(second.stdout)\(second.stderr)")
        for (name, json) in [("old", firstJSON), ("new", secondJSON)] {
            let run = try report(json)
            print("rotation under load, \(name) key: \(run.succeeded) of \(run.requests) requests served")
            #expect(run.passed, "\(name)")
            #expect(run.requests > 100, "\(name): \(run.requests)")
            #expect(run.succeeded == run.requests, "\(name): \(run.succeeded) of \(run.requests)")
            #expect(run.errors.isEmpty, "\(name): \(run.errors)")
            #expect(run.violations.isEmpty, "\(name): \(run.violations)")
        }

        // Once a refresh has run after the drop, the old kid is refused; the new one still passes.
        let oldToken = try await old.sign()
        try await eventually(timeout: .seconds(30), "the old kid refused") {
            try await post(port, oldToken).status == 401
        }
        #expect(try await post(port, try await new.sign()).status == 200)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aFloodOfUnknownKIDsFetchesAtMostOncePerThirtySeconds() async throws {
        let provider = try await IdentityProvider()
        let key = try await CallerSigningKey.es256(kid: "known")
        try provider.serve(Self.jwksPath, CallerSigningKey.jwks([key]))
        let server = try TokenMintProcess(environment: environment(provider))
        let port = try await server.port()
        try await eventually("readiness") { try await ready(port) }
        #expect(provider.hits(Self.jwksPath) == 1)

        let started = ContinuousClock.now
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var seen: [Int] = []
                    for request in 0..<40 {
                        seen.append(try await post(port, Self.unknownKIDToken("made-up-\(worker)-\(request)")).status)
                    }
                    return seen
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let elapsed = ContinuousClock.now - started
        #expect(statuses.count == 320)
        #expect(statuses.allSatisfy { $0 == 401 }, "\(Set(statuses))")
        #expect(elapsed < .seconds(29), "the flood must end within one 30 s window to count fetches: \(elapsed)")
        // The start-up fetch, and one refetch for the whole flood.
        #expect(provider.hits(Self.jwksPath) == 2, "\(provider.hits(Self.jwksPath))")
        #expect(try await post(port, try await key.sign()).status == 200)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func theProviderDownOrAnsweringGarbageKeepsKnownKeysWorking() async throws {
        let provider = try await IdentityProvider()
        let key = await CallerSigningKey.ed25519(kid: "ed-1")
        try provider.serve(Self.jwksPath, CallerSigningKey.jwks([key]))
        let server = try TokenMintProcess(environment: environment(provider, ["CALLER_JWT_JWKS_REFRESH_SECONDS": "5"]))
        let port = try await server.port()
        try await eventually("readiness") { try await ready(port) }
        let token = try await key.sign()
        #expect(try await post(port, token).status == 200)

        // Garbage: a 200 that is not a JWKS, then a 500.
        try provider.serve(Self.jwksPath, "<html>maintenance</html>")
        try await eventually("a failed refresh") {
            (try await metric(port, "tokenmint_caller_keys_refresh_failures_total") ?? 0) >= 1
        }
        #expect(try await post(port, token).status == 200)
        try provider.answerEverything(with: 500)
        // Down: connections refused.
        provider.stop()
        let failures = try await metric(port, "tokenmint_caller_keys_refresh_failures_total") ?? 0
        try await eventually("another failed refresh") {
            (try await metric(port, "tokenmint_caller_keys_refresh_failures_total") ?? 0) > failures
        }
        #expect(try await post(port, token).status == 200)
        #expect(try await ready(port))
        #expect((try await metric(port, "tokenmint_caller_keys_age_seconds") ?? 0) >= 3)
        // One line for the change of state, however many failures followed.
        let staleLines = server.stdout.split(separator: "\n").filter { $0.contains("keeping the last good keys") }
        #expect(staleLines.count == 1, "\(staleLines)")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aWrongCANeverAcceptsAKeyAndSharedSecretCallersAreUnaffected() async throws {
        let provider = try await IdentityProvider()
        let key = try await CallerSigningKey.es256(kid: "ec-1")
        try provider.serve(Self.jwksPath, CallerSigningKey.jwks([key]))
        let server = try TokenMintProcess(
            environment: environment(provider, ["CALLER_JWT_CA_FILE": provider.otherCAFile])
        )
        // Start-up does not wait for, or exit because of, the provider.
        let port = try await server.port()
        try await eventually("two failed fetches") {
            (try await metric(port, "tokenmint_caller_keys_refresh_failures_total") ?? 0) >= 2
        }
        let refused = try await post(port, try await key.sign())
        #expect(refused.status == 503, "\(refused.body)")
        #expect(refused.header("Retry-After") != nil)
        let readiness = try await RawHTTPClient(port: port).send("GET", "/readyz")
        #expect(readiness.status == 503)
        #expect(readiness.body.contains("caller keys"), "\(readiness.body)")
        let hmac = JWTText.sign(
            header: #"{"alg":"HS256"}"#,
            claims: #"{"sub":"site-user","aud":"tokenmint","exp":\#(Int(Date().timeIntervalSince1970) + 60)}"#,
            secret: TokenMintProcess.callerSecret
        )
        #expect(try await post(port, hmac).status == 200)
        // The TLS handshake failed: no request ever reached the provider.
        #expect(provider.hits(Self.jwksPath) == 0)
        #expect(server.stdout.contains("public-key callers get 503"), "\(server.stdout)")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func discoveryFindsTheKeysAndAMismatchingIssuerIsRefused() async throws {
        let provider = try await IdentityProvider()
        let key = try await CallerSigningKey.rs256(kid: "rsa-1")
        try provider.serve(Self.jwksPath, CallerSigningKey.jwks([key]))
        let issuer = provider.url("/realms/site")
        try provider.serve(
            "/realms/site/.well-known/openid-configuration",
            #"{"issuer":"\#(issuer)","jwks_uri":"\#(provider.url(Self.jwksPath))"}"#
        )
        var settings = environment(provider, ["CALLER_JWT_DISCOVERY": "true", "CALLER_JWT_ISSUER": issuer])
        settings["CALLER_JWT_JWKS_URL"] = nil
        let server = try TokenMintProcess(environment: settings)
        let port = try await server.port()
        try await eventually("readiness") { try await ready(port) }
        #expect(try await post(port, try await key.sign(issuer: issuer)).status == 200)
        #expect(try await post(port, try await key.sign(issuer: provider.url("/realms/other"))).status == 401)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)

        // The document names another issuer than the one configured: its keys are never used.
        try provider.serve(
            "/realms/site/.well-known/openid-configuration",
            #"{"issuer":"\#(provider.url("/realms/evil"))","jwks_uri":"\#(provider.url(Self.jwksPath))"}"#
        )
        let fetchesBefore = provider.hits(Self.jwksPath)
        let mismatched = try TokenMintProcess(environment: settings)
        let mismatchedPort = try await mismatched.port()
        try await eventually("a refused discovery") {
            (try await metric(mismatchedPort, "tokenmint_caller_keys_refresh_failures_total") ?? 0) >= 1
        }
        #expect(try await post(mismatchedPort, try await key.sign(issuer: issuer)).status == 503)
        #expect(!(try await ready(mismatchedPort)))
        #expect(provider.hits(Self.jwksPath) == fetchesBefore)
        #expect(mismatched.stdout.contains("issuer is not CALLER_JWT_ISSUER"), "\(mismatched.stdout)")
        mismatched.signal(SIGTERM)
        #expect(try await mismatched.waitForExit() == 0)
    }

    /// A port whose kernel completes TCP handshakes but where nobody ever accepts or speaks TLS: the fetch hangs
    /// until tokenmint's own timeouts end it.
    final class SilentListener {
        let fd: Int32
        let port: Int

        init() throws {
            let port = try LoopbackPorts.reserve()
            guard let fd = LoopbackPorts.bindSocket(port: port, listening: true) else {
                throw TokenMintProcess.Timeout(description: "cannot listen")
            }
            self.fd = fd
            self.port = port
        }

        deinit { close(fd) }
    }

    @Test(.timeLimit(.minutes(2)))
    func aProviderThatNeverAnswersIsBoundedByTheTimeoutsAndDelaysNothingElse() async throws {
        let silent = try SilentListener()
        var settings = TokenMintProcess.baseEnvironment
        settings["CALLER_JWT_JWKS_URL"] = "https://127.0.0.1:\(silent.port)/jwks.json"
        settings["CALLER_JWT_AUDIENCE"] = "tokenmint"
        let started = ContinuousClock.now
        let server = try TokenMintProcess(environment: settings)
        let port = try await server.port()
        // Listening does not wait for the provider.
        #expect(ContinuousClock.now - started < .seconds(10))
        let key = try await CallerSigningKey.es256(kid: "ec-1")
        let answered = ContinuousClock.now
        #expect(try await post(port, try await key.sign()).status == 503)
        #expect(ContinuousClock.now - answered < .seconds(2))
        try await eventually(timeout: .seconds(30), "a fetch ended by the timeout") {
            (try await metric(port, "tokenmint_caller_keys_refresh_failures_total") ?? 0) >= 1
        }
        // Connecting (TCP and TLS) is bounded by 3 s: the first failure cannot have come much sooner (it was not
        // refused, it hung), nor very much later.
        let failedAfter = ContinuousClock.now - started
        #expect(failedAfter >= .milliseconds(2500), "\(failedAfter)")
        #expect(
            server.stdout.lowercased().contains("timeout") || server.stdout.lowercased().contains("timed out"),
            "\(server.stdout)"
        )
        #expect(failedAfter < .seconds(25), "\(failedAfter)")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aJWKSOverTheSizeCapIsRefusedAndTheLastGoodKeysKept() async throws {
        let provider = try await IdentityProvider()
        let key = try await CallerSigningKey.es256(kid: "ec-1")
        try provider.serve(Self.jwksPath, CallerSigningKey.jwks([key]))
        let server = try TokenMintProcess(environment: environment(provider, ["CALLER_JWT_JWKS_REFRESH_SECONDS": "5"]))
        let port = try await server.port()
        try await eventually("readiness") { try await ready(port) }
        // A valid JWKS, padded with junk keys to over 256 KiB, whose only good key is a new one.
        let other = await CallerSigningKey.ed25519(kid: "ed-big")
        let junk = (0..<3000).map { #"{"kty":"oct","kid":"junk-\#($0)","k":"\#(String(repeating: "A", count: 80))"}"# }
        let big = CallerSigningKey.jwks([other], extra: junk)
        #expect(big.utf8.count > 256 * 1024)
        try provider.serve(Self.jwksPath, big)
        try await eventually("a refused oversized JWKS") {
            (try await metric(port, "tokenmint_caller_keys_refresh_failures_total") ?? 0) >= 1
        }
        #expect(try await post(port, try await key.sign()).status == 200)
        #expect(try await post(port, try await other.sign()).status == 401)
        #expect(server.stdout.contains("KiB"), "\(server.stdout)")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aProviderThatHoldsItsAnswerBackIsCutOffByTheTotalTimeout() async throws {
        let provider = try await IdentityProvider()
        let key = try await CallerSigningKey.es256(kid: "ec-1")
        try provider.serve(Self.jwksPath, CallerSigningKey.jwks([key]))
        try provider.delayEverything(by: 60)
        let started = ContinuousClock.now
        let server = try TokenMintProcess(environment: environment(provider))
        let port = try await server.port()
        try await eventually("a fetch cut off by the total timeout") {
            (try await metric(port, "tokenmint_caller_keys_refresh_failures_total") ?? 0) >= 1
        }
        let failedAfter = ContinuousClock.now - started
        // The request reached the provider (TLS completed), and the 5 s total bound ended it.
        #expect(provider.hits(Self.jwksPath) >= 1)
        #expect(failedAfter >= .milliseconds(4500), "\(failedAfter)")
        #expect(failedAfter < .seconds(25), "\(failedAfter)")
        #expect(try await post(port, try await key.sign()).status == 503)
        // Once it answers in time, the keys load on the next retry.
        try provider.delayEverything(by: nil)
        try await eventually("readiness after the provider answers again") { try await ready(port) }
        #expect(try await post(port, try await key.sign()).status == 200)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func repeatedJWKSFailuresRunDiscoveryAgainAndFollowAMovedJWKSURI() async throws {
        let provider = try await IdentityProvider()
        let old = try await CallerSigningKey.es256(kid: "old")
        let new = try await CallerSigningKey.es256(kid: "new")
        let issuer = provider.url("/tenant")
        let discoveryPath = "/tenant/.well-known/openid-configuration"
        func discovery(jwks path: String) -> String {
            #"{"issuer":"\#(issuer)","jwks_uri":"\#(provider.url(path))"}"#
        }
        try provider.serve("/keys-v1", CallerSigningKey.jwks([old]))
        try provider.serve(discoveryPath, discovery(jwks: "/keys-v1"))
        var settings = environment(
            provider,
            ["CALLER_JWT_DISCOVERY": "true", "CALLER_JWT_ISSUER": issuer, "CALLER_JWT_JWKS_REFRESH_SECONDS": "5"]
        )
        settings["CALLER_JWT_JWKS_URL"] = nil
        let server = try TokenMintProcess(environment: settings)
        let port = try await server.port()
        try await eventually("readiness") { try await ready(port) }
        #expect(try await post(port, try await old.sign(issuer: issuer)).status == 200)
        #expect(provider.hits(discoveryPath) == 1)

        // The provider moves its keys: the old URL answers 404, the discovery document names the new one.
        try provider.serve("/keys-v2", CallerSigningKey.jwks([new]))
        try provider.serve(discoveryPath, discovery(jwks: "/keys-v2"))
        provider.remove("/keys-v1")
        try await eventually(timeout: .seconds(60), "the keys from the moved jwks_uri") {
            try await post(port, try await new.sign(issuer: issuer)).status == 200
        }
        #expect(provider.hits(discoveryPath) >= 2)
        #expect(provider.hits("/keys-v2") >= 1)
        // The old key went with the old document.
        #expect(try await post(port, try await old.sign(issuer: issuer)).status == 401)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }
}
