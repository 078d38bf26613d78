import CoreMetrics
import NIOCore
import NIOHTTP1
import Prometheus
import TokenMint

/// Every route, as a function from a request value to a response value: no socket, no event loop, no pipeline.
/// ``ConnectionGuard`` feeds it complete requests in order and writes what it returns.
///
/// One instance per event loop, shared by that loop's connections (``LoopShared``): it keeps the prepared token
/// answer, the audit line's lane and formatted date and time, and its readers of the token and the verifier, which
/// stay in the core's cache from one request to the next whichever connection sends it. It holds nothing of a
/// request between calls: a request waiting for its public-key verification is carried by its ``Verification``. It
/// records every answer in the metrics, and logs the audit line of every token served.
///
/// A class, used from its event loop only: as a value inside the handler, each call that read the environment
/// beside the scratch buffer's `inout` access copied the whole endpoint, a retain per field.
///
/// - Important: Every `POST /v1/token` is verified, from the verifier in force when it arrives; nothing about a
///   caller is remembered between requests. How a rejection is answered is decided in one place,
///   ``problem(for:)``.
final class TokenEndpoint {
    /// The token request carries no body; a little is tolerated (some clients send `{}`), more is refused.
    static let maximumBodyBytes = 1024

    /// What a request comes to.
    enum Outcome {
        case response(EndpointResponse)
        /// The caller's token needs a public-key check, which is asynchronous: run ``Verification/run()``, then
        /// pass its result to ``TokenEndpoint/finish(_:result:)``.
        case verifying(Verification)
    }

    /// A public-key verification the endpoint is waiting for, with the request it is for.
    struct Verification: Sendable {
        fileprivate let request: EndpointRequest
        fileprivate let verifier: RotatingCallerVerifier
        fileprivate let pending: CallerVerifier.PendingPublicKeyToken
        fileprivate let now: Double

        func run() async -> Result<CallerIdentity, CallerRejection> {
            await verifier.verifyWithPublicKey(pending, now: now)
        }
    }

    private let environment: HandlerEnvironment
    private let audit: AuditLog
    private var prepared: PreparedTokenAnswer?
    private var auditScratch: AuditLog.Scratch
    /// The token and the verifier in force, read without their locks unless they changed.
    private var tokenReader = TokenCache.Reader()
    private var verifierReader = CallerVerifierHolder.Reader()

    init(environment: HandlerEnvironment) {
        self.environment = environment
        self.audit = AuditLog(logger: environment.logger)
        self.auditScratch = audit.makeScratch()
    }

    /// Answers `request`, or starts its public-key verification.
    func respond(to request: EndpointRequest) -> Outcome {
        switch request.route {
        case .token:
            switch request.method {
            case .POST: return token(request)
            case .OPTIONS: return .response(preflight(request))
            default: return .response(problem(.tokenMethod, request))
            }
        case .healthz, .readyz, .metrics:
            guard request.method == .GET || request.method == .HEAD else {
                return .response(problem(.readMethod, request))
            }
            switch request.route {
            case .healthz:
                return .response(text(.ok, "text/plain; charset=utf-8", "ok\n", request))
            case .readyz:
                return .response(readyz(request))
            default:
                var body = ByteBufferAllocator().buffer(capacity: 4096)
                body.writeBytes(environment.registry.emitToBuffer())
                return .response(
                    answer(.ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: body, request)
                )
            }
        case .other:
            return .response(problem(.notFound, request))
        }
    }

    /// The answer to the request whose ``Verification`` finished with `result`.
    func finish(
        _ verification: Verification,
        result: Result<CallerIdentity, CallerRejection>
    )
        -> EndpointResponse
    {
        switch result {
        case .success(let caller): return serve(verification.request, caller: caller, now: verification.now)
        case .failure(let rejection): return reject(verification.request, rejection)
        }
    }

    /// The answer to a request whose body is over ``maximumBodyBytes``; the connection closes after it.
    func bodyTooLarge(_ request: EndpointRequest) -> EndpointResponse {
        problem(.bodyTooLarge, request)
    }

    /// The answer to HTTP the parser refused (no request, so no route); the connection closes after it.
    func malformed(_ error: HTTPParserError, requestID: RequestID) -> EndpointResponse {
        let problem: Problem = error == .headerOverflow ? .headersTooLarge : .malformed
        let body = ByteBuffer(string: problem.body)
        let response = EndpointResponse(
            status: problem.status,
            head: Self.problemHead(problem, body: body, origin: nil, cors: environment.cors, version: .http1_1),
            body: body,
            requestID: requestID,
            version: .http1_1,
            closesConnection: true
        )
        environment.metrics.count(route: .other, status: problem.status)
        return response
    }

    /// How each caller rejection is answered: 401 with the rejection's detail; keys not fetched yet is our fault,
    /// not the caller's: 503 and retry, not 401 and sign in again.
    static func problem(for rejection: CallerRejection) -> Problem {
        switch rejection.kind {
        case .keysUnavailable: .callerKeysUnavailable
        default: .unauthorized(rejection.detail)
        }
    }

    // MARK: Routes

    private func token(_ request: EndpointRequest) -> Outcome {
        let now = environment.now()
        let verifier = verifierReader.current(from: environment.verifiers)
        switch verifier.verify(authorization: request.authorization, now: now) {
        case .accepted(let caller):
            return .response(serve(request, caller: caller, now: now))
        case .rejected(let rejection):
            return .response(reject(request, rejection))
        case .needsPublicKey(let pending):
            return .verifying(Verification(request: request, verifier: verifier, pending: pending, now: now))
        }
    }

    private func reject(_ request: EndpointRequest, _ rejection: CallerRejection) -> EndpointResponse {
        environment.metrics.recordRejection(rejection.kind)
        return problem(Self.problem(for: rejection), request)
    }

    private func serve(_ request: EndpointRequest, caller: CallerIdentity, now: Double) -> EndpointResponse {
        guard let snapshot = tokenReader.servable(from: environment.cache, at: now) else {
            return problem(.noToken, request)
        }
        let prepared: PreparedTokenAnswer
        if let current = self.prepared, current.generation == snapshot.generation {
            prepared = current
        } else {
            prepared = PreparedTokenAnswer(snapshot: snapshot)
            self.prepared = prepared
        }
        environment.metrics.served.increment()
        audit.tokenIssued(
            requestID: request.requestID,
            subject: caller.subject,
            verifier: caller.verifier,
            team: caller.team,
            fingerprint: prepared.fingerprint,
            scratch: &auditScratch
        )
        if TokenRepresentation(accept: request.accept) == .json {
            let token = snapshot.token
            let body =
                #"{"token":"\#(token.compact)","expiresAt":"\#(RFC3339.string(token.expiresAt))","expiresIn":"#
                + "\(max(0, Int(token.remaining(at: now).rounded(.down))))}"
            return text(.ok, "application/json", body, request)
        }
        guard request.version == .http1_1 else {
            return answer(.ok, contentType: "application/jwt", body: prepared.body, request)
        }
        return finish(
            .ok,
            head: prepared.head(origin: request.origin, cors: environment.cors),
            body: prepared.body,
            request
        )
    }

    private func preflight(_ request: EndpointRequest) -> EndpointResponse {
        let cors = environment.cors
        let head = ResponseHead.make(
            version: request.version,
            status: .noContent,
            contentType: nil,
            contentLength: nil,
            headers: cors.responseHeaders(origin: request.origin) + [("Allow", "POST, OPTIONS")]
                + cors.preflightHeaders(origin: request.origin)
        )
        return finish(.noContent, head: head, body: nil, request)
    }

    private func readyz(_ request: EndpointRequest) -> EndpointResponse {
        // `"ok","redis_node":"10.0.0.7:6379"`: the state, and the node in use when Redis is configured.
        let redis = environment.redisState() + (environment.redisNode().map { #"","redis_node":""# + $0 } ?? "")
        if environment.readiness.isDraining {
            return text(.serviceUnavailable, "application/json", #"{"status":"draining","redis":"\#(redis)"}"#, request)
        } else if environment.callerKeysState() == .loading {
            return text(
                .serviceUnavailable,
                "application/json",
                #"{"status":"unready","reason":"caller keys not loaded yet","caller_keys":"loading","redis":"\#(redis)"}"#,
                request
            )
        } else if environment.cache.servable(at: environment.now()) == nil {
            return text(
                .serviceUnavailable,
                "application/json",
                #"{"status":"unready","token":"none","redis":"\#(redis)"}"#,
                request
            )
        } else {
            return text(.ok, "application/json", #"{"status":"ready","token":"servable","redis":"\#(redis)"}"#, request)
        }
    }

    // MARK: Answers

    private func text(
        _ status: HTTPResponseStatus,
        _ contentType: String,
        _ text: String,
        _ request: EndpointRequest
    ) -> EndpointResponse {
        answer(status, contentType: contentType, body: ByteBuffer(string: text), request)
    }

    private func answer(
        _ status: HTTPResponseStatus,
        contentType: String,
        body: ByteBuffer,
        _ request: EndpointRequest
    ) -> EndpointResponse {
        let head = ResponseHead.make(
            version: request.version,
            status: status,
            contentType: contentType,
            contentLength: body.readableBytes,
            headers: environment.cors.responseHeaders(origin: request.origin)
        )
        return finish(status, head: head, body: body, request)
    }

    private func problem(_ problem: Problem, _ request: EndpointRequest) -> EndpointResponse {
        let body = ByteBuffer(string: problem.body)
        let head = Self.problemHead(
            problem,
            body: body,
            origin: request.origin,
            cors: environment.cors,
            version: request.version
        )
        return finish(problem.status, head: head, body: body, request, closing: problem.closesConnection)
    }

    /// Every routed answer: the request's id and version, its keep-alive (or `closing`), no body for `HEAD`, and
    /// recorded in the metrics.
    private func finish(
        _ status: HTTPResponseStatus,
        head: ByteBuffer,
        body: ByteBuffer?,
        _ request: EndpointRequest,
        closing: Bool = false
    ) -> EndpointResponse {
        var response = EndpointResponse(
            status: status,
            head: head,
            body: body,
            requestID: request.requestID,
            version: request.version,
            closesConnection: !request.keepAlive || closing
        )
        response.omitsBody = request.method == .HEAD
        record(response, request)
        return response
    }

    private static func problemHead(
        _ problem: Problem,
        body: ByteBuffer,
        origin: String?,
        cors: CORSPolicy,
        version: HTTPVersion
    ) -> ByteBuffer {
        ResponseHead.make(
            version: version,
            status: problem.status,
            contentType: "application/problem+json",
            contentLength: body.readableBytes,
            headers: cors.responseHeaders(origin: origin) + problem.extraHeaders
        )
    }

    private func record(_ response: EndpointResponse, _ request: EndpointRequest) {
        let end = NIODeadline.now().uptimeNanoseconds
        let elapsed = end > request.startNanoseconds ? end - request.startNanoseconds : 0
        environment.metrics.record(
            route: request.route,
            status: response.status,
            nanoseconds: Int64(truncatingIfNeeded: elapsed)
        )
    }
}
