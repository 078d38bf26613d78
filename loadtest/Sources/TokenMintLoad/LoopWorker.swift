import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// One event loop's share of the load: its connections, its pacing, its counts. Every method runs on
/// ``eventLoop`` (the coordinator reaches it through `execute`/`submit`), so nothing here is locked.
final class LoopWorker: @unchecked Sendable {
    enum Phase {
        case warmup
        case measuring
        case stopped
    }

    let eventLoop: any EventLoop
    private let plan: LoadPlan
    private let population: CallerPopulation
    private var callers: CallerSnapshot
    private let connections: [LoadConnection]
    /// Open loop: connections waiting for the next due request.
    private var idle: [LoadConnection] = []
    /// Open loop: due times of requests no connection was free for, oldest first. Their latency runs meanwhile.
    private var backlog = CircularBuffer<UInt64>()
    private var phase = Phase.warmup
    private var stats = LoopStats()
    private var interval = IntervalStats()
    private var checker: TokenChecker
    private var unixNow = Int(time(nil))
    private let timeoutNanoseconds: UInt64
    private var housekeeping: RepeatedTask?

    // Caller choice: users in turn (each loop from its own offset), bad callers at an exact share.
    private var nextUser: Int
    private var nextBad = 0
    private var badCredit = 0.0

    // Open-loop pacing: this loop's k-th request is due at start + (k * loops + index) / rate.
    private let loopIndex: Int
    private let loopCount: Int
    private var paceStart: UInt64 = 0
    private var paceNext: UInt64 = 0
    private var pacing: Scheduled<Void>?

    init(
        eventLoop: any EventLoop,
        loopIndex: Int,
        loopCount: Int,
        plan: LoadPlan,
        population: CallerPopulation,
        connections: [LoadConnection]
    ) {
        self.eventLoop = eventLoop
        self.loopIndex = loopIndex
        self.loopCount = loopCount
        self.plan = plan
        self.population = population
        self.callers = population.current
        self.connections = connections
        self.checker = TokenChecker(checks: plan.checks)
        self.timeoutNanoseconds = UInt64(plan.requestTimeoutSeconds * 1e9)
        self.nextUser = (loopIndex * 7919) % max(1, callers.goodAuthorizations.count)
    }

    // MARK: Coordinator entry points

    /// Connects every connection and starts sending (warmup: answers are checked, not counted).
    func start(paceStart: UInt64) {
        self.paceStart = paceStart
        housekeeping = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) {
            [self] _ in
            self.houseKeep()
        }
        for connection in connections { connect(connection) }
        if case .openLoop = plan.pacing { pace() }
    }

    func beginMeasuring() {
        phase = .measuring
        // Distinct tokens and violations count over the whole run, warmup included.
        var measured = LoopStats()
        measured.distinctTokens = stats.distinctTokens
        measured.warmupViolations = stats.warmupViolations
        stats = measured
    }

    /// Stops sending, closes every connection and hands over the counts of the measured window.
    func stop() -> LoopStats {
        phase = .stopped
        pacing?.cancel()
        housekeeping?.cancel()
        for connection in connections {
            connection.state = .closed
            connection.channel?.close(promise: nil)
        }
        defer { stats = LoopStats() }
        return stats
    }

    func takeInterval() -> IntervalStats {
        var result = interval
        result.inFlight = connections.count { $0.state == .inFlight }
        result.backlog = backlog.count
        interval.answered = 0
        interval.failed = 0
        interval.latency.reset()
        return result
    }

    // MARK: Connections

    private func connect(_ connection: LoadConnection) {
        guard phase != .stopped else { return }
        connection.state = .connecting
        ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.nanoseconds(Int64(timeoutNanoseconds)))
            .channelInitializer { [self] channel in
                do {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        LoadResponseHandler(connection: connection, worker: self)
                    )
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(to: connection.address)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    connection.channel = channel
                    connection.connectFailures = 0
                    guard phase != .stopped else {
                        channel.close(promise: nil)
                        return
                    }
                    connection.state = .ready
                    proceed(connection)
                case .failure:
                    connection.state = .closed
                    record(.connectFailed)
                    connection.connectFailures += 1
                    reconnectLater(connection)
                }
            }
    }

    /// Exponential backoff with jitter, 10 ms to 2 s: a server that is down is not hammered with connects.
    private func reconnectLater(_ connection: LoadConnection) {
        guard phase != .stopped else { return }
        let exponent = min(connection.connectFailures, 8)
        let ceiling = min(10_000_000 * (1 << exponent), 2_000_000_000)
        let delay = Int64.random(in: Int64(ceiling / 2)...Int64(ceiling))
        eventLoop.scheduleTask(in: .nanoseconds(delay)) { [self] in self.connect(connection) }
    }

    func closed(_ connection: LoadConnection, channel: any Channel) {
        guard connection.channel === channel else { return }
        connection.channel = nil
        if let index = idle.firstIndex(where: { $0 === connection }) { idle.remove(at: index) }
        let wasInFlight = connection.state == .inFlight
        connection.state = .closed
        guard phase != .stopped else { return }
        if wasInFlight {
            record(.connectionClosed)
            // The request it carried is lost; in the open loop its place in the schedule is not taken back.
            reconnectLater(connection)
        } else {
            connect(connection)  // closed between requests, as servers and proxies do: reconnect at once
        }
    }

    // MARK: Requests

    /// A connection is free: send the next request (closed loop) or the oldest waiting one (open loop).
    private func proceed(_ connection: LoadConnection) {
        guard phase != .stopped, connection.state == .ready else { return }
        switch plan.pacing {
        case .closedLoop:
            send(on: connection, startNanoseconds: NIODeadline.now().uptimeNanoseconds)
        case .openLoop:
            if let due = backlog.popFirst() {
                send(on: connection, startNanoseconds: due)
            } else {
                idle.append(connection)
            }
        }
    }

    private func send(on connection: LoadConnection, startNanoseconds: UInt64) {
        guard let channel = connection.channel else { return }
        badCredit += plan.callers.badRatio
        let authorization: String
        if badCredit >= 1 {
            badCredit -= 1
            connection.isBadCaller = true
            authorization = callers.badAuthorizations[nextBad]
            nextBad = (nextBad + 1) % callers.badAuthorizations.count
        } else {
            connection.isBadCaller = false
            authorization = callers.goodAuthorizations[nextUser]
            nextUser = (nextUser + 1) % callers.goodAuthorizations.count
        }
        connection.state = .inFlight
        connection.startNanoseconds = startNanoseconds
        connection.status = 0
        connection.hasNoStore = false
        connection.body = nil
        let headers = HTTPHeaders([
            ("Host", connection.target.hostHeader), ("Authorization", authorization), ("Content-Length", "0"),
        ])
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: connection.target.path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    /// The whole answer to the request in flight on `connection` has arrived.
    func answered(_ connection: LoadConnection) {
        let latency = NIODeadline.now().uptimeNanoseconds &- connection.startNanoseconds
        connection.state = .ready
        let failure: Failure?
        if connection.isBadCaller {
            failure =
                connection.status == 401
                ? (connection.hasNoStore ? nil : .missingNoStore)
                : (connection.status == 200 ? .badCallerAccepted : .badCallerStatus(connection.status))
        } else if connection.status != 200 {
            failure = .status(connection.status)
        } else if !connection.hasNoStore {
            failure = .missingNoStore
        } else if let body = connection.body {
            failure = checker.check(body, now: unixNow, distinct: &stats.distinctTokens)
        } else {
            failure = .tokenMalformed
        }
        connection.body = nil
        if !connection.keepAlive {
            // The server ends this connection after this answer; a new one replaces it (see `closed`).
            connection.state = .closing
            connection.channel?.close(promise: nil)
        }
        if let failure {
            record(failure)
        } else if phase != .stopped {
            let micros = max(1, latency / 1_000)
            interval.answered += 1
            interval.latency.record(micros)
            if phase == .measuring {
                if connection.isBadCaller {
                    stats.rejected += 1
                    stats.rejectionLatency.record(micros)
                } else {
                    stats.succeeded += 1
                    stats.latency.record(micros)
                }
            }
        }
        proceed(connection)
    }

    private func record(_ failure: Failure) {
        guard phase != .stopped else { return }
        interval.answered += 1
        interval.failed += 1
        if phase == .measuring {
            stats.failures[failure, default: 0] += 1
        } else if failure.isViolation {
            stats.warmupViolations[failure, default: 0] += 1
        }
    }

    // MARK: Open-loop pacing

    private func dueTime(_ k: UInt64) -> UInt64 {
        guard case .openLoop(let rate) = plan.pacing else { return .max }
        let slot = Double(k) * Double(loopCount) + Double(loopIndex)
        return paceStart + UInt64(slot * 1e9 / rate)
    }

    /// Issues every request that has come due, then sleeps until the next one (at least 50 µs, so a high rate is
    /// paced in small batches rather than one timer per request; the due times themselves stay exact).
    private func pace() {
        guard phase != .stopped else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        var issued = 0
        while dueTime(paceNext) <= now, issued < 100_000 {
            let due = dueTime(paceNext)
            paceNext += 1
            issued += 1
            if let connection = idle.popLast() {
                send(on: connection, startNanoseconds: due)
            } else {
                backlog.append(due)
            }
        }
        let next = dueTime(paceNext)
        let wait = next > now ? max(next - now, 50_000) : 50_000
        pacing = eventLoop.scheduleTask(in: .nanoseconds(Int64(wait))) { [self] in self.pace() }
    }

    // MARK: Housekeeping

    /// Every 100 ms: the wall clock for remaining-life checks, a newer caller generation, timeouts.
    private func houseKeep() {
        guard phase != .stopped else { return }
        unixNow = Int(time(nil))
        let newest = population.current
        if newest.generation != callers.generation { callers = newest }
        let now = NIODeadline.now().uptimeNanoseconds
        // Requests that waited for a connection longer than the timeout have failed, as a real client's would.
        while let due = backlog.first, now &- due > timeoutNanoseconds {
            _ = backlog.popFirst()
            record(.timeout)
        }
        for connection in connections where connection.state == .inFlight {
            if now &- connection.startNanoseconds > timeoutNanoseconds {
                record(.timeout)
                connection.state = .closing  // so closing it does not count it twice
                connection.channel?.close(promise: nil)
            }
        }
    }
}
