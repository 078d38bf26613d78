import Foundation
import NIOCore
import NIOPosix

/// Runs one load plan: signs the callers, checks the targets answer, warms up, measures, reports.
public enum LoadRun {
    /// - Parameter progress: called once a second with a line describing the last second.
    public static func run(_ plan: LoadPlan, progress: (@Sendable (String) -> Void)? = nil) async throws -> LoadReport {
        if let problem = plan.validationError() { throw LoadError(problem) }
        let addresses = try plan.targets.map { target in
            do {
                return try SocketAddress.makeAddressResolvingHost(target.host, port: target.port)
            } catch {
                throw LoadError("\(target): cannot resolve \(target.host): \(error)")
            }
        }
        let population = try await CallerPopulation(plan: plan.callers)
        population.startRenewing()
        defer { population.stop() }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: plan.threads)
        do {
            let report = try await run(
                plan,
                addresses: addresses,
                population: population,
                group: group,
                progress: progress
            )
            try await group.shutdownGracefully()
            return report
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private static func run(
        _ plan: LoadPlan,
        addresses: [SocketAddress],
        population: CallerPopulation,
        group: MultiThreadedEventLoopGroup,
        progress: (@Sendable (String) -> Void)?
    ) async throws -> LoadReport {
        // Fail fast and clearly when a target is not there, rather than measuring a run of connect errors.
        for (target, address) in zip(plan.targets, addresses) {
            do {
                let channel = try await ClientBootstrap(group: group).connectTimeout(.seconds(3)).connect(to: address)
                    .get()
                try await channel.close()
            } catch {
                throw LoadError("\(target): cannot connect: \(error)")
            }
        }

        let loops = Array(group.makeIterator())
        var perLoop = Array(repeating: [LoadConnection](), count: loops.count)
        for index in 0..<plan.connections {
            let target = index % plan.targets.count
            perLoop[index % loops.count].append(
                LoadConnection(target: plan.targets[target], address: addresses[target])
            )
        }
        let workers = loops.enumerated().map { index, loop in
            LoopWorker(
                eventLoop: loop,
                loopIndex: index,
                loopCount: loops.count,
                plan: plan,
                population: population,
                connections: perLoop[index]
            )
        }

        let startedAt = Date()
        let paceStart = NIODeadline.now().uptimeNanoseconds + 10_000_000
        for worker in workers { worker.eventLoop.execute { worker.start(paceStart: paceStart) } }

        let clock = ContinuousClock()
        let warmupEnd = clock.now + .milliseconds(Int64(plan.warmupSeconds * 1_000))
        try await watch(until: warmupEnd, workers: workers, label: "warmup", progress: progress)

        let driverBefore = CPUTime.ownMicroseconds()
        let serverBefore = CPUTime.microseconds(of: CPUTime.processTree(plan.serverPIDs))
        try await all(workers) { $0.beginMeasuring() }
        let measureStart = clock.now
        let timeline = try await watch(
            until: measureStart + .milliseconds(Int64(plan.durationSeconds * 1_000)),
            workers: workers,
            label: "run",
            progress: progress
        )
        let parts = try await all(workers) { $0.stop() }
        let measured = measureStart.duration(to: clock.now)
        let driverAfter = CPUTime.ownMicroseconds()
        let serverTree = CPUTime.processTree(plan.serverPIDs)  // one /proc scan for both readings
        let serverAfter = CPUTime.microseconds(of: serverTree)
        let rss = CPUTime.residentBytes(of: serverTree)

        var stats = LoopStats()
        for part in parts { stats.merge(part) }
        var serverCPU: Double?
        if let serverBefore, let serverAfter { serverCPU = serverAfter - serverBefore }
        return LoadReport(
            plan: plan,
            stats: stats,
            startedAt: startedAt,
            measuredSeconds: seconds(measured),
            driverCPUMicros: driverAfter - driverBefore,
            serverCPUMicros: serverCPU,
            serverRSSBytes: rss,
            timeline: timeline
        )
    }

    /// Runs `body` on every worker's loop and waits for all of them.
    @discardableResult
    private static func all<T: Sendable>(
        _ workers: [LoopWorker],
        _ body: @escaping @Sendable (LoopWorker) -> T
    ) async throws -> [T] {
        var results: [T] = []
        for worker in workers { results.append(try await worker.eventLoop.submit { body(worker) }.get()) }
        return results
    }

    /// Sleeps until `end`, printing one progress line a second; returns the seconds as a timeline.
    @discardableResult
    private static func watch(
        until end: ContinuousClock.Instant,
        workers: [LoopWorker],
        label: String,
        progress: (@Sendable (String) -> Void)?
    ) async throws -> [LoadReport.Second] {
        let clock = ContinuousClock()
        let start = clock.now
        var tick = start
        var timeline: [LoadReport.Second] = []
        while tick < end {
            let last = tick
            tick = min(tick + .seconds(1), end)
            try await Task.sleep(until: tick, clock: clock)
            var second = IntervalStats()
            for part in try await all(workers, { $0.takeInterval() }) { second.merge(part) }
            let length = seconds(last.duration(to: tick))
            let entry = LoadReport.Second(
                at: seconds(start.duration(to: tick)),
                seconds: length,
                stats: second
            )
            timeline.append(entry)
            guard let progress else { continue }
            var line =
                "[\(label) \(Int(entry.at.rounded()))s] \(LoadReport.format(entry.requestsPerSecond, digits: 0)) req/s"
            line +=
                ", p99 \(LoadReport.millis(entry.p99Micros)) ms, errors \(entry.errors), in flight \(second.inFlight)"
            if second.backlog > 0 { line += ", waiting for a connection \(second.backlog)" }
            progress(line)
        }
        return timeline
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
