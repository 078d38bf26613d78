import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import TokenMint
import TokenMintTesting

@testable import TokenMintServer

/// ``ConnectionGuard`` behind the real decoder in an `EmbeddedChannel`: order, batching, limits, parser errors,
/// draining and the idle timer, with no socket and virtual time.
@Suite struct ConnectionGuardTests {
    static func channel(
        idleTimeout: TimeAmount = HTTPServer.idleTimeout,
        shared: LoopShared? = nil
    ) async throws -> EmbeddedChannel {
        let shared = if let shared { shared } else { try await Self.shared() }
        let channel = EmbeddedChannel()
        try HTTPServer.addConnectionHandlers(
            to: channel.pipeline.syncOperations,
            shared: shared,
            idleTimeout: idleTimeout
        )
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).get()
        return channel
    }

    static func shared() async throws -> LoopShared {
        LoopShared(endpoint: TokenEndpoint(environment: try await EndpointFixture.make().environment))
    }

    /// Every answer written so far, and how many writes carried them.
    static func answers(_ channel: EmbeddedChannel) throws -> (responses: [HTTPResponse], writes: Int) {
        var bytes: [UInt8] = []
        var writes = 0
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            bytes += buffer.readableBytesView
            writes += 1
        }
        let (responses, used) = RawHTTPClient.parse(bytes)
        #expect(used == bytes.count, "bytes left over after the last whole answer")
        return (responses, writes)
    }

    static func post(id: String, extra: [(String, String)] = []) -> String {
        RawHTTPClient.request(
            "POST",
            "/v1/token",
            headers: LiveServer.bearer(LiveServer.callerToken()) + [("X-Request-Id", id)] + extra
        )
    }

    @Test func pipelinedRequestsAreAnsweredInOrderInOneWrite() async throws {
        let channel = try await Self.channel()
        let raw =
            RawHTTPClient.request("GET", "/healthz", headers: [("X-Request-Id", "a")]) + Self.post(id: "b")
            + RawHTTPClient.request("GET", "/nope", headers: [("X-Request-Id", "c")])
        try channel.writeInbound(ByteBuffer(string: raw))
        let (responses, writes) = try Self.answers(channel)
        #expect(responses.map(\.status) == [200, 200, 404])
        #expect(responses.map { $0.header("X-Request-Id") } == ["a", "b", "c"])
        #expect(writes == 1)
        #expect(channel.isActive)
    }

    /// The connections of one event loop share the endpoint and the output buffer: a batch still held by its
    /// channel (a write the socket has not taken) is neither overwritten nor sent again by the next connection.
    @Test func connectionsSharingALoopNeverShareABatch() async throws {
        let shared = try await Self.shared()
        let first = try await Self.channel(shared: shared)
        let second = try await Self.channel(shared: shared)
        try first.writeInbound(ByteBuffer(string: Self.post(id: "first-1")))
        try second.writeInbound(ByteBuffer(string: Self.post(id: "second-1") + Self.post(id: "second-2")))
        try first.writeInbound(ByteBuffer(string: Self.post(id: "first-2")))
        let (firstAnswers, firstWrites) = try Self.answers(first)
        let (secondAnswers, secondWrites) = try Self.answers(second)
        #expect(firstAnswers.map { $0.header("X-Request-Id") } == ["first-1", "first-2"])
        #expect(secondAnswers.map { $0.header("X-Request-Id") } == ["second-1", "second-2"])
        #expect((firstWrites, secondWrites) == (2, 1))
        #expect((firstAnswers + secondAnswers).allSatisfy { $0.status == 200 })

        // Once a batch has been taken, its buffer serves the next one.
        try first.writeInbound(ByteBuffer(string: Self.post(id: "first-3")))
        #expect(try Self.answers(first).responses.map { $0.header("X-Request-Id") } == ["first-3"])
    }

    @Test func nothingIsWrittenBeforeTheReadBatchEnds() async throws {
        let channel = try await Self.channel()
        channel.pipeline.fireChannelRead(ByteBuffer(string: Self.post(id: "1")))
        channel.pipeline.fireChannelRead(ByteBuffer(string: Self.post(id: "2")))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.pipeline.fireChannelReadComplete()
        let (responses, writes) = try Self.answers(channel)
        #expect(responses.map { $0.header("X-Request-Id") } == ["1", "2"])
        #expect(writes == 1)
    }

    @Test func aBodyOverTheLimitIs413AndCloses() async throws {
        let declared = try await Self.channel()
        try declared.writeInbound(
            ByteBuffer(
                string: "POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n"
                    + String(repeating: "x", count: 2000) + Self.post(id: "after")
            )
        )
        let (responses, _) = try Self.answers(declared)
        #expect(responses.map(\.status) == [413])
        #expect(responses.first?.header("Connection") == "close")
        #expect(!declared.isActive)

        let chunked = try await Self.channel()
        let head = "POST /v1/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        let chunk = "400\r\n" + String(repeating: "x", count: 1024) + "\r\n"
        try chunked.writeInbound(ByteBuffer(string: head + chunk))
        #expect(try Self.answers(chunked).responses.isEmpty, "1 KiB is still allowed")
        try chunked.writeInbound(ByteBuffer(string: "1\r\nx\r\n"))
        #expect(try Self.answers(chunked).responses.map(\.status) == [413])
        #expect(!chunked.isActive)
    }

    @Test func connectIsRefusedAndCloses() async throws {
        let channel = try await Self.channel()
        try channel.writeInbound(
            ByteBuffer(
                string: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n"
                    + RawHTTPClient.request("GET", "/healthz")
            )
        )
        let (responses, _) = try Self.answers(channel)
        #expect(responses.count == 1)
        #expect(responses.first.map { $0.status >= 400 } == true)
        #expect(responses.first?.header("Connection") == "close")
        #expect(!channel.isActive)
    }

    @Test(arguments: [
        ("BLAH\r\n\r\n", 400),
        ("GET /healthz HTTP/1.1\r\nX-Padding: " + String(repeating: "p", count: 17 * 1024) + "\r\n\r\n", 431),
        (
            "GET /healthz HTTP/1.1\r\n" + String(repeating: "A:\r\n", count: HTTPServer.maximumHeaderFields + 1)
                + "\r\n", 431
        ),
    ])
    func parserErrorsAreProblemsAndClose(raw: String, status: Int) async throws {
        let channel = try await Self.channel()
        try channel.writeInbound(ByteBuffer(string: raw))
        let (responses, _) = try Self.answers(channel)
        #expect(responses.map(\.status) == [status])
        #expect(responses.first?.header("Content-Type") == "application/problem+json")
        #expect(responses.first?.header("Connection") == "close")
        #expect(!channel.isActive)
    }

    @Test func aParserErrorAfterGoodRequestsIsAnsweredAfterThem() async throws {
        let channel = try await Self.channel()
        try channel.writeInbound(ByteBuffer(string: Self.post(id: "good") + "BLAH\r\n\r\n"))
        let (responses, _) = try Self.answers(channel)
        #expect(responses.map(\.status) == [200, 400])
    }

    @Test func quiescingClosesAnIdleConnectionAtOnce() async throws {
        let channel = try await Self.channel()
        try channel.writeInbound(ByteBuffer(string: Self.post(id: "done")))
        #expect(try Self.answers(channel).responses.map(\.status) == [200])
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!channel.isActive)
    }

    @Test func quiescingMidRequestAnswersItWithClose() async throws {
        let channel = try await Self.channel()
        // The head is complete, the body is not: the request is in progress.
        let request = RawHTTPClient.request(
            "POST",
            "/v1/token",
            headers: LiveServer.bearer(LiveServer.callerToken()) + [("X-Request-Id", "last")],
            body: "{}"
        )
        let split = request.index(before: request.endIndex)
        try channel.writeInbound(ByteBuffer(string: String(request[..<split])))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(channel.isActive, "the request in progress is still answered")
        try channel.writeInbound(ByteBuffer(string: String(request[split...]) + Self.post(id: "dropped")))
        let (responses, _) = try Self.answers(channel)
        #expect(responses.map { $0.header("X-Request-Id") } == ["last"])
        #expect(responses.first?.status == 200)
        #expect(responses.first?.header("Connection") == "close")
        #expect(!channel.isActive)
    }

    @Test func aClientThatDoesNotReadIsClosedAtTheNextHead() async throws {
        let channel = try await Self.channel()
        // As a socket channel does once its buffers are full: the flag, then the event.
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        try channel.writeInbound(ByteBuffer(string: Self.post(id: "x")))
        #expect(try Self.answers(channel).responses.isEmpty)
        #expect(!channel.isActive)
    }

    @Test func aConnectionWritableAgainIsServed() async throws {
        let channel = try await Self.channel()
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        try channel.writeInbound(ByteBuffer(string: Self.post(id: "again")))
        #expect(try Self.answers(channel).responses.map { $0.header("X-Request-Id") } == ["again"])
        #expect(channel.isActive)
    }

    @Test func onlyCompletedHeadsKeepTheConnectionOpen() async throws {
        let channel = try await Self.channel(idleTimeout: .seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        try channel.writeInbound(ByteBuffer(string: RawHTTPClient.request("GET", "/healthz")))
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        #expect(channel.isActive, "a head 6 s ago resets the timer")
        // A head that never completes does not.
        try channel.writeInbound(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nX-Slow: "))
        channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        try channel.writeInbound(ByteBuffer(string: "zzz"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }
}
