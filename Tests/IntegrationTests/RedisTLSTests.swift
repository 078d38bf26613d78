import Foundation
import Testing
import TokenMintTesting

#if canImport(Glibc)
import Glibc
#endif

/// `rediss://` with real processes against a real TLS `redis-server` (`--port 0 --tls-port`) and certificates the
/// test makes: a fleet shares one token over TLS; a certificate that does not verify, a wrong name, a missing client
/// certificate and a plaintext server each leave the replica degraded and serving, never in plaintext; an outage
/// under load fails no request. Serialized, like the plain fleet tests.
@Suite(.serialized) struct RedisTLSTests {
    static func environment(_ certificates: TLSCertificates, client: Bool = false) -> [String: String] {
        var environment = ["REDIS_TLS_CA_FILE": certificates.caFile]
        if client {
            environment["REDIS_TLS_CERT_FILE"] = certificates.clientCertificateFile
            environment["REDIS_TLS_KEY_FILE"] = certificates.clientKeyFile
        }
        return environment
    }

    @Test func aFleetOverTLSColdStartsWithOneMint() async throws {
        let certificates = try TLSCertificates()
        let redis = try await RedisServer(tls: .init(certificates: certificates))
        let started = ContinuousClock.now
        let fleet = try await Replica.fleet(4, redisURL: redis.url, environment: Self.environment(certificates))
        print("time to ready for 4 replicas over TLS: \(ContinuousClock.now - started)")
        var served: Set<String> = []
        for replica in fleet {
            for _ in 0..<3 {
                let response = try await replica.token()
                #expect(response.status == 200)
                served.insert(response.body)
            }
            #expect(try await replica.redisState() == "ok")
        }
        #expect(served.count == 1)
        #expect(try await fleet.mintedTotal() == 1)
        #expect(try redis.cli(["GET", RedisFleetTests.tokenKey]) == served.first)
        // The name checked can be set apart from the address dialled (here the certificate's DNS name).
        let byName = try await Replica.one(
            redisURL: redis.url,
            environment: Self.environment(certificates).merging(["REDIS_TLS_SERVER_NAME": "localhost"]) { $1 }
        )
        #expect(try await byName.redisState() == "ok")
        #expect(try await byName.token().body == served.first)
    }

    @Test func mutualTLS() async throws {
        let certificates = try TLSCertificates()
        let redis = try await RedisServer(
            password: "tls-redis-password-1",
            tls: .init(certificates: certificates, requireClientCertificates: true)
        )
        let url = "rediss://:tls-redis-password-1@127.0.0.1:\(redis.port)"
        let withCertificate = try await Replica.one(
            redisURL: url,
            environment: Self.environment(certificates, client: true)
        )
        #expect(try await withCertificate.redisState() == "ok")
        let shared = try await withCertificate.token().body

        let without = try await Replica.one(redisURL: url, environment: Self.environment(certificates))
        try await Self.expectDegradedAndServing(without, reason: "certificate")
        // Its own mint (byte for byte the shared one when minted in the same second: minting is deterministic).
        #expect(try await without.minted() == 1)
        #expect(JWTText.verifies(try await without.token().body, secret: TokenMintProcess.clientSecret))
        #expect(try redis.cli(["GET", RedisFleetTests.tokenKey]) == shared)
        #expect(!without.process.stdout.contains("tls-redis-password-1"), "the password is never logged")
    }

    @Test func aCertificateFromAnotherCAIsRefused() async throws {
        let certificates = try TLSCertificates()
        let other = try TLSCertificates()
        let redis = try await RedisServer(tls: .init(certificates: certificates))
        let replica = try await Replica.one(redisURL: redis.url, environment: Self.environment(other))
        try await Self.expectDegradedAndServing(replica, reason: "certificate does not verify")
        // The system trust store does not know the test's CA either.
        let system = try await Replica.one(redisURL: redis.url)
        try await Self.expectDegradedAndServing(system, reason: "certificate does not verify")
    }

    @Test func aWrongNameIsRefused() async throws {
        let certificates = try TLSCertificates()
        let redis = try await RedisServer(tls: .init(certificates: certificates))
        let replica = try await Replica.one(
            redisURL: redis.url,
            environment: Self.environment(certificates).merging(["REDIS_TLS_SERVER_NAME": "redis.example"]) { $1 }
        )
        try await Self.expectDegradedAndServing(replica, reason: "hostname mismatch")
        // A certificate without 127.0.0.1 among its names, dialled by that address.
        let named = try TLSCertificates(serverNames: ["DNS:redis.internal"])
        let byAddress = try await RedisServer(tls: .init(certificates: named))
        let dialled = try await Replica.one(redisURL: byAddress.url, environment: Self.environment(named))
        try await Self.expectDegradedAndServing(dialled, reason: "mismatch")
    }

    /// rediss:// at a plaintext server: the handshake never completes (Redis holds the ClientHello as an unfinished
    /// command), the replica is degraded, and not one command reached the server (no AUTH in plaintext).
    @Test func aPlaintextServerBehindRedissIsNeverSpokenToInPlaintext() async throws {
        let certificates = try TLSCertificates()
        let redis = try await RedisServer(password: "plain-password-1")
        let replica = try await Replica.one(
            redisURL: "rediss://:plain-password-1@127.0.0.1:\(redis.port)",
            environment: Self.environment(certificates)
        )
        try await Self.expectDegradedAndServing(replica, reason: "TLS")
        let calls = try redis.commandCalls()
        #expect(calls["auth"] == nil && calls["get"] == nil && calls["set"] == nil, "\(calls)")
    }

    /// Redis over TLS killed and restarted under load: no request fails, the fleet goes degraded and comes back to
    /// one shared token.
    @Test func redisKilledAndRestartedUnderLoadOverTLS() async throws {
        let certificates = try TLSCertificates()
        let redis = try await RedisServer(tls: .init(certificates: certificates))
        var environment = Self.environment(certificates)
        environment.merge(RedisFleetTests.shortTTL) { $1 }
        let fleet = try await Replica.fleet(3, redisURL: redis.url, environment: environment)
        let first = try #require(ServedToken(try await fleet[0].token().body))
        let load = Task { try await RedisFleetTests.load(fleet) }
        defer { load.cancel() }
        try await Task.sleep(for: .seconds(max(0, first.remaining() - 17)))
        redis.kill()
        let degradedDeadline = ContinuousClock.now + .seconds(15)
        var degraded = false
        while ContinuousClock.now < degradedDeadline, !degraded {
            var states: [String?] = []
            for replica in fleet { states.append(try await replica.redisState()) }
            degraded = states.allSatisfy { $0 == "degraded" }
            if !degraded { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(degraded, "every replica refreshed during the outage and reported degraded")
        try await redis.start()
        let convergeDeadline = ContinuousClock.now + .seconds(40)
        var converged = false
        while ContinuousClock.now < convergeDeadline, !converged {
            var tokens: Set<String> = []
            var states: Set<String?> = []
            for replica in fleet {
                tokens.insert(try await replica.token().body)
                states.insert(try await replica.redisState())
            }
            converged = tokens.count == 1 && states == ["ok"]
            if !converged { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(converged, "the fleet converged on one token after Redis returned")
        load.cancel()
        let (requests, failures) = try await load.value
        #expect(requests > 100)
        #expect(failures == 0, "\(failures) of \(requests) requests failed")
    }

    /// Ready, degraded, serving; the TLS reason logged once however many retries, and counted.
    static func expectDegradedAndServing(_ replica: Replica, reason: String) async throws {
        #expect(try await replica.readyz().status == 200)
        #expect(try await replica.redisState() == "degraded")
        for _ in 0..<3 { #expect(try await replica.token().status == 200) }
        // Let the backoff (1 s, doubling, jittered) retry at least twice.
        try await Task.sleep(for: .milliseconds(3500))
        #expect(try await replica.redisState() == "degraded")
        let logged = replica.process.stdout.split(separator: "\n").filter { $0.contains("redis failed") }
        #expect(logged.count == 1, "logged once: \(logged)")
        #expect(logged.first?.contains(reason) == true, "\(logged)")
        #expect((try await replica.metric("tokenmint_redis_tls_failures_total") ?? 0) >= 2)
        #expect(try await replica.metric("tokenmint_degraded") == 1)
    }
}
