import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Testing
import TokenMint
import TokenMintTesting

@testable import TokenMintServer

/// ``TokenEndpoint`` as a function: a request value in, a response value out, no socket.
@Suite struct TokenEndpointFunctionTests {
    func answer(_ endpoint: TokenEndpoint, _ request: EndpointRequest) throws -> HTTPResponse {
        guard case .response(let response) = endpoint.respond(to: request) else {
            Issue.record("an HMAC caller needs no asynchronous verification")
            throw CancellationError()
        }
        return try #require(EndpointFixture.parse(response))
    }

    @Test func servesTheCachedTokenWithTheRequestsOwnID() async throws {
        let fixture = try await EndpointFixture.make()
        let endpoint = TokenEndpoint(environment: fixture.environment)
        let bearer = "Bearer " + LiveServer.callerToken()
        for id in ["first", "second"] {
            let response = try answer(endpoint, EndpointFixture.post(authorization: bearer, id: .supplied(id)))
            #expect(response.status == 200)
            #expect(response.body == fixture.token.compact)
            #expect(response.header("X-Request-Id") == id)
            #expect(response.header("Content-Type") == "application/jwt")
            #expect(response.header("Content-Length") == String(fixture.token.compact.utf8.count))
            #expect(response.header("Cache-Control") == "no-store")
            #expect(response.header("Connection") == nil)
            #expect(response.header("Vary") == nil)
        }
    }

    @Test func madeIDsAreThePrefixAndTheCounter() {
        var ids = RequestIDGenerator()
        let first = ids.next()
        let second = ids.next()
        var buffer = ByteBuffer()
        second.write(into: &buffer)
        var line: [UInt8] = []
        second.append(to: &line)
        #expect(String(buffer: buffer) == second.description)
        #expect(String(decoding: line, as: UTF8.self) == second.description)
        #expect(first.description.hasSuffix("-1"))
        #expect(second.description.hasSuffix("-2"))
        #expect(first.description.dropLast() == second.description.dropLast())
        var big = ByteBuffer()
        RequestID.made(prefix: "p-", counter: 1_000_000_007).write(into: &big)
        #expect(String(buffer: big) == "p-1000000007")
    }

    @Test func corsHeadsDependOnTheOrigin() async throws {
        let fixture = try await EndpointFixture.make()
        let endpoint = TokenEndpoint(environment: fixture.environment)
        let bearer = "Bearer " + LiveServer.callerToken()
        let allowed = try answer(endpoint, EndpointFixture.post(authorization: bearer, origin: "https://site.example"))
        #expect(allowed.header("Access-Control-Allow-Origin") == "https://site.example")
        #expect(allowed.header("Vary") == "Origin")
        let other = try answer(endpoint, EndpointFixture.post(authorization: bearer, origin: "https://evil.example"))
        #expect(other.status == 200)
        #expect(other.header("Vary") == "Origin")
        #expect(other.headers.allSatisfy { !$0.0.lowercased().hasPrefix("access-control-") })
        // The allowed origin's prepared head is still its own after another origin's was built.
        let again = try answer(endpoint, EndpointFixture.post(authorization: bearer, origin: "https://site.example"))
        #expect(again.header("Access-Control-Allow-Origin") == "https://site.example")
    }

    @Test func aNewTokenGenerationRebuildsTheAnswer() async throws {
        let fixture = try await EndpointFixture.make()
        let endpoint = TokenEndpoint(environment: fixture.environment)
        let bearer = "Bearer " + LiveServer.callerToken()
        #expect(try answer(endpoint, EndpointFixture.post(authorization: bearer)).body == fixture.token.compact)
        let newer = MiroTokenSigner(clientID: LiveServer.clientID, secret: Secret(LiveServer.clientSecret))
            .mint(now: UnixTime.now() + 10, ttl: 300)
        #expect(fixture.environment.cache.store(newer))
        let response = try answer(endpoint, EndpointFixture.post(authorization: bearer))
        #expect(response.body == newer.compact)
        #expect(response.header("Content-Length") == String(newer.compact.utf8.count))
    }

    @Test func everyRequestIsVerified() async throws {
        let fixture = try await EndpointFixture.make()
        let endpoint = TokenEndpoint(environment: fixture.environment)
        let good = "Bearer " + LiveServer.callerToken()
        #expect(try answer(endpoint, EndpointFixture.post(authorization: good)).status == 200)
        let forged = String(good.dropLast(2)) + (good.hasSuffix("AA") ? "BB" : "AA")
        let refused = try answer(endpoint, EndpointFixture.post(authorization: forged, origin: "https://site.example"))
        #expect(refused.status == 401)
        #expect(refused.header("Content-Type") == "application/problem+json")
        #expect(refused.header("Cache-Control") == "no-store")
        #expect(refused.header("WWW-Authenticate")?.hasPrefix("Bearer ") == true)
        #expect(refused.header("Access-Control-Allow-Origin") == "https://site.example")
        #expect(try answer(endpoint, EndpointFixture.post(authorization: nil)).status == 401)
    }

    @Test func routesAndMethods() async throws {
        let fixture = try await EndpointFixture.make()
        let endpoint = TokenEndpoint(environment: fixture.environment)
        func request(_ method: HTTPMethod, _ route: Route) -> EndpointRequest {
            EndpointRequest(method: method, route: route, requestID: .supplied("r"))
        }
        let get = try answer(endpoint, request(.GET, .token))
        #expect(get.status == 405)
        #expect(get.header("Allow") == "POST, OPTIONS")
        #expect(try answer(endpoint, request(.POST, .healthz)).header("Allow") == "GET, HEAD")
        #expect(try answer(endpoint, request(.GET, .other)).status == 404)
        let health = try answer(endpoint, request(.GET, .healthz))
        #expect(health.status == 200)
        #expect(health.body == "ok\n")
        guard case .response(let head) = endpoint.respond(to: request(.HEAD, .healthz)) else {
            Issue.record("not answered")
            return
        }
        var bytes = ByteBuffer()
        head.write(into: &bytes)
        let text = String(buffer: bytes)
        #expect(text.contains("\r\nContent-Length: 3\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"), "no content after the head")
        let ready = try answer(endpoint, request(.GET, .readyz))
        #expect(ready.status == 200)
        #expect(ready.body.contains(#""redis":"disabled""#))
        fixture.environment.readiness.startDraining()
        #expect(try answer(endpoint, request(.GET, .readyz)).status == 503)
    }

    @Test func preflightFromAnAllowedOriginOnly() async throws {
        let fixture = try await EndpointFixture.make()
        let endpoint = TokenEndpoint(environment: fixture.environment)
        var request = EndpointRequest(method: .OPTIONS, route: .token, requestID: .supplied("p"))
        request.origin = "https://site.example"
        let allowed = try answer(endpoint, request)
        #expect(allowed.status == 204)
        #expect(allowed.header("Content-Length") == nil)
        #expect(allowed.header("Access-Control-Allow-Methods") == "POST")
        #expect(allowed.header("Allow") == "POST, OPTIONS")
        request.origin = "https://evil.example"
        let refused = try answer(endpoint, request)
        #expect(refused.headers.allSatisfy { !$0.0.lowercased().hasPrefix("access-control-") })
    }

    @Test func http10AndClosingRequestsSayHowTheConnectionEnds() async throws {
        let fixture = try await EndpointFixture.make()
        let endpoint = TokenEndpoint(environment: fixture.environment)
        var request = EndpointFixture.post(authorization: "Bearer " + LiveServer.callerToken())
        request.version = .http1_0
        var buffer = ByteBuffer()
        guard case .response(let old) = endpoint.respond(to: request) else {
            Issue.record("not answered")
            return
        }
        old.write(into: &buffer)
        let text = String(buffer: buffer)
        #expect(text.hasPrefix("HTTP/1.0 200 OK\r\n"))
        #expect(text.contains("\r\nConnection: keep-alive\r\n"))
        request.version = .http1_1
        request.keepAlive = false
        let closing = try answer(endpoint, request)
        #expect(closing.header("Connection") == "close")
    }

    @Test func answersJSONWhenAskedFor() async throws {
        let fixture = try await EndpointFixture.make()
        let endpoint = TokenEndpoint(environment: fixture.environment)
        let response = try answer(
            endpoint,
            EndpointFixture.post(authorization: "Bearer " + LiveServer.callerToken(), accept: "application/json")
        )
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.body.hasPrefix(#"{"token":""# + fixture.token.compact))
    }

    @Test func refusesWithProblemsWhenNoTokenIsServable() async throws {
        let fixture = try await EndpointFixture.make()
        fixture.environment.cache.clear()
        let endpoint = TokenEndpoint(environment: fixture.environment)
        let response = try answer(endpoint, EndpointFixture.post(authorization: "Bearer " + LiveServer.callerToken()))
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "1")
        #expect(response.header("Content-Type") == "application/problem+json")
    }

    /// The audit line written straight as bytes holds what `Logger.info` writes through ``LineLogHandler``.
    @Test func theAuditLineMatchesTheLoggersOwn() throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        defer {
            close(descriptors[0])
            close(descriptors[1])
        }
        let writer = LogWriter(descriptor: descriptors[1])
        var handler = LineLogHandler(label: "tokenmint", format: .json, writer: writer)
        handler.metadata["replica"] = "r-1"
        let logger = Logger(label: "tokenmint") { _ in handler }
        let fast = AuditLog(logger: logger)
        var scratch = fast.makeScratch()
        let subject = "al\"ice\u{2028}"
        fast.tokenIssued(
            requestID: .made(prefix: "0123456789abcdef-", counter: 42),
            subject: subject,
            verifier: "hmac",
            fingerprint: "fp",
            scratch: &scratch
        )
        // The audit line is in the endpoint's own lane, written with the shared buffer but not ordered with it.
        writer.flush()
        logger.info(
            "token issued",
            metadata: [
                "request_id": "0123456789abcdef-42", "sub": .string(subject), "verifier": "hmac", "token": "fp",
            ]
        )
        writer.flush()
        // The writer's own thread may have written either line already: read until both are in.
        // Bounded: a line never written fails the test instead of hanging it.
        _ = fcntl(descriptors[0], F_SETFL, fcntl(descriptors[0], F_GETFL) | O_NONBLOCK)
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<500 where received.filter({ $0 == 10 }).count < 2 {
            var ready = pollfd(fd: descriptors[0], events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 10) > 0 else { continue }
            let count = read(descriptors[0], &chunk, chunk.count)
            if count > 0 { received += chunk[..<count] }
        }
        let lines = String(decoding: received, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        var stamps: [String] = []
        let objects = try lines.map {
            var object = try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])
            stamps.append(object["ts"] ?? "")
            object["ts"] = nil
            return object
        }
        #expect(objects.count == 2 && objects[0] == objects[1])
        // Both timestamps are RFC 3339 UTC with milliseconds, the audit line's (second from its own cache) no later
        // than the logger's.
        let format = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
        #expect(stamps.count == 2 && stamps.allSatisfy { $0.wholeMatch(of: format) != nil }, "\(stamps)")
        #expect(stamps.count == 2 && stamps[0] <= stamps[1], "\(stamps)")
        #expect(objects.first?["sub"] == subject)
        #expect(objects.first?["replica"] == "r-1")
    }

    /// `Benchmarks/` measures the endpoint through this probe: it must answer as the endpoint does.
    @Test func theBenchmarkProbeAnswersAsTheEndpointDoes() async throws {
        var probe = try await _TokenEndpointProbe(
            clientID: LiveServer.clientID,
            clientSecret: Secret(LiveServer.clientSecret),
            callerSecret: Secret(LiveServer.callerSecret)
        )
        let served = probe.answer(authorization: "Bearer " + LiveServer.callerToken())
        #expect(served.status == 200)
        #expect(served.bytes > 165, "a head and a token")
        #expect(probe.answer(authorization: "Bearer not-a-jwt").status == 401)
    }
}
