import Foundation
import TokenMintTesting

/// One running `tokenmint` process and the few things the fleet tests ask of it.
struct Replica: Sendable {
    let process: TokenMintProcess
    let port: Int

    /// Starts `count` replicas at once and waits, bounded, for each to listen (it listens once it holds a token).
    static func fleet(
        _ count: Int,
        redisURL: String?,
        environment extra: [String: String] = [:]
    ) async throws -> [Replica] {
        var environment = TokenMintProcess.baseEnvironment
        environment["REDIS_URL"] = redisURL
        environment.merge(extra) { _, new in new }
        let processes = try (0..<count).map { _ in try TokenMintProcess(environment: environment) }
        var replicas: [Replica] = []
        for process in processes {
            replicas.append(Replica(process: process, port: try await process.port()))
        }
        return replicas
    }

    static func one(redisURL: String?, environment: [String: String] = [:]) async throws -> Replica {
        try await fleet(1, redisURL: redisURL, environment: environment)[0]
    }

    /// `POST /v1/token` with a valid caller token.
    func token() async throws -> HTTPResponse {
        try await RawHTTPClient(port: port).send(
            "POST",
            "/v1/token",
            headers: [("Authorization", "Bearer \(ProcessTests.callerToken())")]
        )
    }

    func readyz() async throws -> HTTPResponse {
        try await RawHTTPClient(port: port).send("GET", "/readyz")
    }

    /// A metric's value from `/metrics` (the first sample of that name), or nil when absent.
    func metric(_ name: String) async throws -> Double? {
        let body = try await RawHTTPClient(port: port).send("GET", "/metrics").body
        for line in body.split(separator: "\n") where line.hasPrefix(name + " ") || line.hasPrefix(name + "{") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }

    func minted() async throws -> Int { Int(try await metric("tokenmint_tokens_minted_total") ?? 0) }

    func redisState() async throws -> String? {
        Self.field("redis", in: try await readyz().body)
    }

    /// What `/readyz` says of Redis: its state and the node in use (`127.0.0.1:6380`, `none`).
    func redisStateAndNode() async throws -> (state: String?, node: String?) {
        let body = try await readyz().body
        return (Self.field("redis", in: body), Self.field("redis_node", in: body))
    }

    /// A string field of a flat JSON body.
    static func field(_ name: String, in body: String) -> String? {
        guard let range = body.range(of: "\"\(name)\":\"") else { return nil }
        return String(body[range.upperBound...].prefix { $0 != "\"" })
    }

    /// SIGTERM, and the exit status once it has drained.
    @discardableResult
    func stop() async throws -> Int32 {
        process.signal(SIGTERM)
        return try await process.waitForExit()
    }
}

/// Claims of a served token, read independently of tokenmint's code.
struct ServedToken: Hashable {
    let compact: String
    let expiresAt: Int

    init?(_ compact: String) {
        guard let claims = JWTText.claims(compact), let exp = claims["exp"] as? Int else { return nil }
        self.compact = compact
        self.expiresAt = exp
    }

    func remaining(at now: Date = Date()) -> Double { Double(expiresAt) - now.timeIntervalSince1970 }
}

extension Array where Element == Replica {
    /// Tokens served by the fleet so far (`tokenmint_tokens_served_total`).
    func requestsServed() async throws -> Int {
        var total = 0
        for replica in self { total += Int(try await replica.metric("tokenmint_tokens_served_total") ?? 0) }
        return total
    }

    func mintedTotal() async throws -> Int {
        var total = 0
        for replica in self { total += try await replica.minted() }
        return total
    }
}
