import Foundation
import JWTKit
import NIOCore
import Testing
import TokenMintTesting
import TokenMint

@testable import TokenMintServer

/// The live server over real sockets: the HTTP contract from DESIGN.md, route by route.
@Suite struct TokenEndpointTests {
    struct MiroClaims: JWTPayload {
        var iss: IssuerClaim
        var exp: ExpirationClaim
        func verify(using algorithm: some JWTAlgorithm) async throws { try exp.verifyNotExpired() }
    }

    @Test func issuesAMiroTokenThatAnIndependentDecoderVerifies() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let response = try await server.client.send(
            "POST",
            "/v1/token",
            headers: LiveServer.bearer(LiveServer.callerToken())
        )
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/jwt")
        #expect(response.header("Cache-Control") == "no-store")
        #expect(response.header("X-Request-Id") != nil)

        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: LiveServer.clientSecret), digestAlgorithm: .sha256)
        let claims = try await keys.verify(response.body, as: MiroClaims.self)
        #expect(claims.iss.value == LiveServer.clientID)
        let raw = try #require(JWTText.claims(response.body))
        let exp = try #require(raw["exp"] as? Int)
        let iat = try #require(raw["iat"] as? Int)
        #expect(exp - iat == 300)
        #expect(Double(exp) - Date().timeIntervalSince1970 > 60)
        let header = String(
            decoding: try #require(JWTText.decode(response.body.split(separator: ".")[0])),
            as: UTF8.self
        )
        #expect(header == #"{"alg":"HS256","typ":"JWT"}"#)
    }

    @Test func answersJSONWhenAskedFor() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let response = try await server.client.send(
            "POST",
            "/v1/token",
            headers: LiveServer.bearer(LiveServer.callerToken()) + [("Accept", "application/json")]
        )
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
        let token = try #require(object["token"] as? String)
        let expiresIn = try #require(object["expiresIn"] as? Int)
        let expiresAt = try #require(object["expiresAt"] as? String)
        #expect((200...300).contains(expiresIn))
        let exp = try #require(JWTText.claims(token)?["exp"] as? Int)
        let parsed = try #require(ISO8601DateFormatter().date(from: expiresAt))
        #expect(Int(parsed.timeIntervalSince1970) == exp)
    }

    /// Each bad caller a site will meet, as the `Authorization` header value (nil: no header).
    static let badCallers: [(String, String?)] = {
        let forever = #"{"sub":"u","exp":9999999999}"#
        let none = JWTText.base64URL(Array(#"{"alg":"none"}"#.utf8)) + "." + JWTText.base64URL(Array(forever.utf8))
        let wrongKey = String(repeating: "x", count: 64)
        let early = #"{"sub":"u","exp":9999999999,"nbf":9999999000}"#
        return [
            ("missing", nil),
            ("not bearer", "Basic dXNlcjpwYXNz"),
            ("malformed", "Bearer not-a-jwt"),
            ("wrong key", "Bearer " + JWTText.sign(header: #"{"alg":"HS256"}"#, claims: forever, secret: wrongKey)),
            ("alg none", "Bearer " + none + "."),
            ("alg none signed", "Bearer " + none + ".AAAA"),
            (
                "HS512 header over HS256 MAC",
                "Bearer " + JWTText.sign(header: #"{"alg":"HS512"}"#, claims: forever, secret: LiveServer.callerSecret)
            ),
            (
                "RS256 header over HMAC",
                "Bearer " + JWTText.sign(header: #"{"alg":"RS256"}"#, claims: forever, secret: LiveServer.callerSecret)
            ),
            ("expired", "Bearer " + LiveServer.callerToken(lifetime: -60)),
            (
                "not yet valid",
                "Bearer " + JWTText.sign(header: #"{"alg":"HS256"}"#, claims: early, secret: LiveServer.callerSecret)
            ),
        ]
    }()

    @Test(arguments: badCallers)
    func refusesBadCallers(name: String, authorization: String?) async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let headers =
            authorization.map { [("Authorization", $0), ("Origin", "https://site.example")] } ?? [
                ("Origin", "https://site.example")
            ]
        let response = try await server.client.send("POST", "/v1/token", headers: headers)
        #expect(response.status == 401, "\(name)")
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.header("Cache-Control") == "no-store")
        let challenge = try #require(response.header("WWW-Authenticate"))
        #expect(challenge.hasPrefix("Bearer "))
        #expect(challenge.contains(#"error="invalid_token""#))
        // A page on an allowed origin can read why.
        #expect(response.header("Access-Control-Allow-Origin") == "https://site.example")
        let problem = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
        #expect(problem["status"] as? Int == 401)
        #expect((problem["detail"] as? String)?.isEmpty == false)
        // Never echoes the presented token.
        if let authorization, authorization.count > 20 {
            #expect(!response.body.contains(String(authorization.dropFirst(7).prefix(20))))
        }
    }

    @Test func enforcesIssuerAndAudienceOverHTTP() async throws {
        let server = try await LiveServer.start(
            LiveServer.settings(
                caller: CallerSettings(
                    hmacSecret: Secret(LiveServer.callerSecret),
                    issuer: "https://site.example",
                    audience: "tokenmint"
                )
            )
        )
        defer { Task { await server.stop() } }
        let good = LiveServer.callerToken(iss: "https://site.example", aud: "tokenmint")
        #expect(try await server.client.send("POST", "/v1/token", headers: LiveServer.bearer(good)).status == 200)
        let wrongIssuer = LiveServer.callerToken(iss: "https://evil.example", aud: "tokenmint")
        #expect(
            try await server.client.send("POST", "/v1/token", headers: LiveServer.bearer(wrongIssuer)).status == 401
        )
        let wrongAudience = LiveServer.callerToken(iss: "https://site.example", aud: "other")
        #expect(
            try await server.client.send("POST", "/v1/token", headers: LiveServer.bearer(wrongAudience)).status == 401
        )
    }

    @Test func routesMethodsAndLimits() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let client = server.client

        let get = try await client.send("GET", "/v1/token")
        #expect(get.status == 405)
        #expect(get.header("Allow") == "POST, OPTIONS")
        #expect(get.header("Content-Type") == "application/problem+json")

        let postHealth = try await client.send("POST", "/healthz")
        #expect(postHealth.status == 405)
        #expect(postHealth.header("Allow") == "GET, HEAD")

        let missing = try await client.send("GET", "/nope")
        #expect(missing.status == 404)
        #expect(missing.header("Content-Type") == "application/problem+json")

        let big = try await client.send(
            "POST",
            "/v1/token",
            headers: LiveServer.bearer(LiveServer.callerToken()),
            body: String(repeating: "x", count: 2000)
        )
        #expect(big.status == 413)
        #expect(big.header("Content-Type") == "application/problem+json")

        let small = try await client.send(
            "POST",
            "/v1/token",
            headers: LiveServer.bearer(LiveServer.callerToken()),
            body: "{}"
        )
        #expect(small.status == 200)

        let hugeHeaders = try await client.send(
            "GET",
            "/healthz",
            headers: [("X-Padding", String(repeating: "p", count: 17 * 1024))]
        )
        #expect(hugeHeaders.status == 431)
        #expect(hugeHeaders.header("Content-Type") == "application/problem+json")

        // NIO's byte limit counts names and values only: many empty fields are refused by their number.
        let manyFields = try await client.send(
            "GET",
            "/healthz",
            headers: Array(repeating: ("A", ""), count: HTTPServer.maximumHeaderFields + 1)
        )
        #expect(manyFields.status == 431)
        let enoughFields = try await client.send(
            "GET",
            "/healthz",
            headers: (0..<60).map { ("X-Field-\($0)", "v") }
        )
        #expect(enoughFields.status == 200)

        // An answer to CONNECT would open a tunnel: refused, and the connection closes rather than leave a request
        // pipelined behind it unanswered.
        let connect = try await client.exchange(
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n" + RawHTTPClient.request("GET", "/healthz"),
            expecting: 1
        )
        #expect(connect.first.map { $0.status >= 400 } == true)
        #expect(connect.first?.header("Connection") == "close")

        let garbage = try await client.exchange("BLAH\r\n\r\n", expecting: 1)
        #expect(garbage.first?.status == 400)
        #expect(garbage.first?.header("Content-Type") == "application/problem+json")
        #expect(garbage.first?.body.contains("\"status\":400") == true)

        // Malformed HTTP has no route, and is counted all the same.
        let metrics = try await client.send("GET", "/metrics").body
        #expect(metrics.contains(#"tokenmint_http_requests_total{route="other",status="400"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"tokenmint_http_requests_total{route="other",status="431"} 2"#), "\(metrics)")
    }

    @Test func corsForAllowedOriginsOnly() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let client = server.client

        let preflight = try await client.send(
            "OPTIONS",
            "/v1/token",
            headers: [
                ("Origin", "https://site.example"), ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "authorization"),
            ]
        )
        #expect(preflight.status == 204)
        #expect(preflight.header("Access-Control-Allow-Origin") == "https://site.example")
        #expect(preflight.header("Access-Control-Allow-Methods") == "POST")
        #expect(preflight.header("Access-Control-Allow-Headers") == "Authorization, Content-Type")
        #expect(preflight.header("Access-Control-Max-Age") == "600")
        #expect(preflight.header("Access-Control-Allow-Credentials") == nil)

        let allowed = try await client.send(
            "POST",
            "/v1/token",
            headers: LiveServer.bearer(LiveServer.callerToken()) + [("Origin", "https://site.example")]
        )
        #expect(allowed.status == 200)
        #expect(allowed.header("Access-Control-Allow-Origin") == "https://site.example")
        #expect(allowed.header("Vary") == "Origin")
        #expect(allowed.header("Access-Control-Expose-Headers") == "Retry-After, WWW-Authenticate")

        for request in [
            ("OPTIONS", [("Access-Control-Request-Method", "POST")]),
            ("POST", LiveServer.bearer(LiveServer.callerToken())),
        ] {
            let refused = try await client.send(
                request.0,
                "/v1/token",
                headers: request.1 + [("Origin", "https://evil.example")]
            )
            #expect(refused.headers.allSatisfy { !$0.0.lowercased().hasPrefix("access-control-") })
        }
    }

    @Test func concurrentCallersShareOneToken() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let client = server.client
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let response = try await client.send(
                        "POST",
                        "/v1/token",
                        headers: LiveServer.bearer(LiveServer.callerToken(sub: "user-\(index)"))
                    )
                    return response.status == 200 ? response.body : "status \(response.status)"
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(tokens.count == 1)
        #expect(tokens.first?.split(separator: ".").count == 3)
    }

    @Test func pipelinedRequestsAnswerInOrder() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let raw =
            RawHTTPClient.request("GET", "/healthz", headers: [("X-Request-Id", "first")])
            + RawHTTPClient.request(
                "POST",
                "/v1/token",
                headers: LiveServer.bearer(LiveServer.callerToken()) + [("X-Request-Id", "second")]
            )
            + RawHTTPClient.request("GET", "/nope", headers: [("X-Request-Id", "third")])
        let responses = try await server.client.exchange(raw, expecting: 3)
        #expect(responses.map(\.status) == [200, 200, 404])
        #expect(responses.map { $0.header("X-Request-Id") } == ["first", "second", "third"])
    }

    /// A silent connection is closed after the idle timeout; one that keeps sending requests is not, however long
    /// it lives.
    @Test func idleConnectionsAreClosedBusyOnesAreNot() async throws {
        // A request every 200 ms against a 3 s timeout: the margin is wide because the whole suite (fleets of
        // processes and load drivers included) runs in parallel on two cores.
        let server = try await LiveServer.start(idleTimeout: .seconds(3))
        defer { Task { await server.stop() } }
        let port = server.port
        struct Outcome {
            var statuses: [Int] = []
            var busyLived = Duration.zero
            var silentEnded = false
            var silentWait = Duration.zero
        }
        let outcome = try await RawHTTPClient.offPool { () throws -> Outcome in
            let silent = try RawHTTPClient.connect(port: port)
            defer { close(silent) }
            let busy = try RawHTTPClient.connect(port: port)
            defer { close(busy) }
            var outcome = Outcome()
            let start = ContinuousClock.now
            for _ in 0..<35 {
                try RawHTTPClient.write(busy, Array(RawHTTPClient.request("GET", "/healthz").utf8))
                outcome.statuses += try RawHTTPClient.read(busy, expecting: 1).map(\.status)
                RawHTTPClient.pause(milliseconds: 200)
            }
            outcome.busyLived = ContinuousClock.now - start
            // The silent one was closed long ago: reading it sees the end of the stream at once, not the 5 s timeout.
            var byte: UInt8 = 0
            let readStart = ContinuousClock.now
            outcome.silentEnded = recv(silent, &byte, 1, 0) == 0
            outcome.silentWait = ContinuousClock.now - readStart
            return outcome
        }
        #expect(outcome.statuses == Array(repeating: 200, count: 35))
        #expect(outcome.busyLived > .seconds(6), "the busy connection outlived the timeout twice over")
        #expect(outcome.silentEnded)
        #expect(outcome.silentWait < .seconds(2))
    }

    /// A head trickled in a byte at a time (slowloris) does not keep the connection: only a completed request resets
    /// the idle timer, so it is closed after the timeout like a silent one.
    @Test func aHeadTrickledInIsCutOffAtTheIdleTimeout() async throws {
        let server = try await LiveServer.start(idleTimeout: .milliseconds(1500))
        defer { Task { await server.stop() } }
        let port = server.port
        let head =
            Array("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "z"), count: 64)
        let (closedAfter, tried) = try await RawHTTPClient.offPool { () throws -> (Duration?, Duration) in
            let trickle = try RawHTTPClient.connect(port: port)
            defer { close(trickle) }
            let start = ContinuousClock.now
            for byte in head {
                guard (try? RawHTTPClient.write(trickle, [byte])) != nil else {
                    return (ContinuousClock.now - start, .zero)
                }
                var probe: UInt8 = 0
                if recv(trickle, &probe, 1, Int32(MSG_DONTWAIT)) == 0 { return (ContinuousClock.now - start, .zero) }
                RawHTTPClient.pause(milliseconds: 100)
            }
            return (nil, ContinuousClock.now - start)
        }
        let after = try #require(closedAfter, "a head trickled in for \(tried) was never cut off")
        #expect(after < .seconds(6), "cut off after \(after), not at the 1.5 s timeout")
    }

    /// A client that pipelines requests and never reads the answers is disconnected once its unread answers fill
    /// the socket and NIO's write buffer, instead of having them queue in the server's memory without bound.
    @Test func aClientThatNeverReadsIsDisconnected() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let port = server.port
        let batch = Array(String(repeating: RawHTTPClient.request("GET", "/metrics"), count: 200).utf8)
        let start = ContinuousClock.now
        let (sent, disconnected) = try await RawHTTPClient.offPool { () throws -> (Int, Bool) in
            let flood = try RawHTTPClient.connect(port: port)
            defer { close(flood) }
            var small: Int32 = 4096
            setsockopt(flood, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            var sent = 0
            let deadline = start + .seconds(20)
            while ContinuousClock.now < deadline, sent < 512 * 1024 * 1024 {
                let written = batch.withUnsafeBytes {
                    send(flood, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                }
                if written < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK {
                        RawHTTPClient.pause(milliseconds: 5)
                        continue
                    }
                    return (sent, true)
                }
                sent += written
            }
            return (sent, false)
        }
        let elapsed = ContinuousClock.now - start
        let metrics = try await server.client.send("GET", "/metrics").body
        let answeredLine = metrics.split(separator: "\n").first {
            $0.hasPrefix(#"tokenmint_http_requests_total{route="/metrics",status="200"} "#)
        }
        let answered = answeredLine.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
        let requests = sent / (batch.count / 200)
        print(
            "never-reading client: disconnected \(disconnected) after \(sent / 1024) KiB of requests (\(requests)),"
                + " \(answered) answered, \(elapsed)"
        )
        // Each request (about 40 bytes) asks for a /metrics page of about 2 KiB: 64 MiB of them is 3 GiB of answers.
        #expect(disconnected, "still connected after sending \(sent / 1024) KiB of requests without reading")
        #expect(sent < 64 * 1024 * 1024, "disconnected only after \(sent / 1024) KiB of requests")
        // Without the bound the server answered all it read, into memory, and the connection lasted until it broke
        // (17 s and gigabytes here); with it, the server stops at the first head once the buffers are full and
        // leaves most of what was sent unread. Counted in answers, not seconds: on a loaded machine the same
        // bounded run takes ten times as long.
        #expect(answered >= 0 && answered < requests / 2, "\(answered) of \(requests) requests were answered")
        #expect(elapsed < .seconds(20), "disconnected only after \(elapsed)")
        #expect(try await server.client.send("GET", "/healthz").status == 200, "others are still served")
    }

    @Test func requestIDsAreEchoedOnlyWhenSane() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let sane = try await server.client.send("GET", "/healthz", headers: [("X-Request-Id", "abc-123")])
        #expect(sane.header("X-Request-Id") == "abc-123")
        let insane = try await server.client.send("GET", "/healthz", headers: [("X-Request-Id", "a b\"c")])
        #expect(insane.header("X-Request-Id") != nil)
        #expect(insane.header("X-Request-Id") != "a b\"c")
    }

    @Test func healthReadinessAndMetrics() async throws {
        let started = Date().timeIntervalSince1970
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        let client = server.client
        #expect(try await client.send("GET", "/healthz").status == 200)
        let ready = try await client.send("GET", "/readyz")
        #expect(ready.status == 200)
        #expect(ready.body.contains(#""redis":"disabled""#))
        _ = try await client.send("POST", "/v1/token", headers: LiveServer.bearer(LiveServer.callerToken()))
        _ = try await client.send("POST", "/v1/token", headers: [])

        let metrics = try await client.send("GET", "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(metrics.body.contains("tokenmint_tokens_minted_total 1"))
        #expect(metrics.body.contains(#"tokenmint_caller_rejected_total{reason="missing"} 1"#))
        #expect(metrics.body.contains(#"tokenmint_http_requests_total{route="/v1/token",status="200"} 1"#))
        #expect(metrics.body.contains("tokenmint_http_request_duration_seconds_bucket"))
        let expiry = try #require(
            metrics.body.split(separator: "\n").first { $0.hasPrefix("tokenmint_token_expiry_timestamp_seconds ") }
        )
        let value = try #require(Double(expiry.split(separator: " ")[1]))
        // Minted between the start and now, for 300 s: bounds from both ends, not a margin a slow machine outruns.
        #expect(value >= started + 300 - 1 && value <= Date().timeIntervalSince1970 + 300 + 1, "\(value)")
        // No token, secret or caller token in what Prometheus scrapes.
        #expect(!metrics.body.contains("eyJ"))
    }

    @Test func answers503RatherThanAnAlmostDeadToken() async throws {
        let server = try await LiveServer.start()
        defer { Task { await server.stop() } }
        // No refresher runs here: age the clock 250 s into a 300 s token, leaving 50 s < MIN 60 s.
        server.clockOffset.advance(by: 250)
        let response = try await server.client.send(
            "POST",
            "/v1/token",
            headers: LiveServer.bearer(LiveServer.callerToken())
        )
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "1")
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(try await server.client.send("GET", "/readyz").status == 503)
    }

    struct CallerClaims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A public-key caller is verified off the event loop; requests pipelined behind it wait, and every answer
    /// leaves in request order.
    @Test func pipelinedRequestsWaitForAPublicKeyVerification() async throws {
        let key = ES256PrivateKey()
        let pem = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-key-\(UUID())")
        try key.publicKey.pemRepresentation.write(to: pem, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: pem) }
        let server = try await LiveServer.start(
            LiveServer.settings(
                caller: CallerSettings(hmacSecret: Secret(LiveServer.callerSecret), publicKeyFile: pem.path)
            )
        )
        defer { Task { await server.stop() } }
        let signed = try await JWTKeyCollection().add(ecdsa: key).sign(
            CallerClaims(sub: "user-pk", exp: .init(value: Date().addingTimeInterval(600)))
        )
        let raw =
            RawHTTPClient.request(
                "POST",
                "/v1/token",
                headers: LiveServer.bearer(signed) + [("X-Request-Id", "pk-1")]
            )
            + RawHTTPClient.request("GET", "/healthz", headers: [("X-Request-Id", "after-1")])
            + RawHTTPClient.request(
                "POST",
                "/v1/token",
                headers: LiveServer.bearer(signed + "x") + [("X-Request-Id", "pk-2")]
            )
            + RawHTTPClient.request(
                "POST",
                "/v1/token",
                headers: LiveServer.bearer(LiveServer.callerToken()) + [("X-Request-Id", "hmac")]
            )
            + "BLAH\r\n\r\n"
        let responses = try await server.client.exchange(raw, expecting: 5)
        #expect(responses.map { $0.header("X-Request-Id") ?? "-" }.prefix(4) == ["pk-1", "after-1", "pk-2", "hmac"])
        #expect(responses.map(\.status) == [200, 200, 401, 200, 400])

        // Connections share their event loop's endpoint (the test server has one loop): while one waits for its
        // public-key check, others are answered, and each gets its own answers.
        let waiting =
            RawHTTPClient.request(
                "POST",
                "/v1/token",
                headers: LiveServer.bearer(signed) + [("X-Request-Id", "waiting-pk")]
            ) + RawHTTPClient.request("GET", "/healthz", headers: [("X-Request-Id", "waiting-after")])
        let busy = (1...20).map { index in
            RawHTTPClient.request(
                "POST",
                "/v1/token",
                headers: LiveServer.bearer(LiveServer.callerToken()) + [("X-Request-Id", "busy-\(index)")]
            )
        }.joined()
        async let waitingAnswers = server.client.exchange(waiting, expecting: 2)
        async let busyAnswers = server.client.exchange(busy, expecting: 20)
        let (fromWaiting, fromBusy) = try await (waitingAnswers, busyAnswers)
        #expect(fromWaiting.map { $0.header("X-Request-Id") ?? "-" } == ["waiting-pk", "waiting-after"])
        #expect(fromWaiting.map(\.status) == [200, 200])
        #expect(fromBusy.map { $0.header("X-Request-Id") ?? "-" } == (1...20).map { "busy-\($0)" })
        #expect(fromBusy.allSatisfy { $0.status == 200 })
    }
}
