import CoreMetrics
import Dispatch
import Logging
import Synchronization

@testable import TokenMint

/// A fleet larger than this machine can run: many replicas, each the real ``TokenRefresher``, ``RefreshPolicy``,
/// ``RedisTokenSource`` and ``SharedRefreshStateMachine``, on one ``MemoryRedis`` with expiry and a round-trip
/// latency, over a ``TestClock`` hour that passes in seconds. Replicas start at random times; each draws its own
/// refresh points and jitter from its own seed. Redis can be taken away (refusing connections, then back empty).
struct FleetSimulation {
    var replicas = 1000
    var duration: Double = 3600
    var timing = TokenTiming(ttlSeconds: 300, minRemainingSeconds: 60)
    /// Replicas start within this many seconds of each other.
    var startSpread: Double = 5
    /// Every command's round trip.
    var latency: Double = 0.001
    /// Seconds after the start during which Redis refuses connections; it comes back empty.
    var outage: Range<Double>?
    var sampleInterval: Double = 2
    var seed: UInt64 = 42

    struct Report {
        /// Mint times, seconds after the start.
        var mints: [Double] = []
        /// Command times, seconds after the start, and commands per replica; connections refused in the outage.
        var commands: [Double] = []
        var refused = 0
        var commandsPerReplica: [Int] = []
        /// The longest any replica served a token that was never the fleet's (never stored in Redis), in seconds.
        var longestOwnServing: Double = 0
        /// After the outage: when every replica served one token from Redis again, seconds after Redis returned.
        var convergedAfterOutage: Double?
        /// Samples at which some replica held no servable token.
        var unservableSamples = 0

        /// Mints grouped into refresh rounds: a round is every mint within half a window of the round's first.
        func rounds(window: Double) -> [(start: Double, mints: Int)] {
            var rounds: [(start: Double, mints: Int)] = []
            for time in mints.sorted() {
                if let last = rounds.last, time - last.start < window / 2 {
                    rounds[rounds.count - 1].mints += 1
                } else {
                    rounds.append((time, 1))
                }
            }
            return rounds
        }

        /// Commands in each window of `window` seconds from the start.
        func commandsPerWindow(window: Double, duration: Double) -> [Int] {
            var counts = Array(repeating: 0, count: Int((duration / window).rounded(.up)))
            for time in commands { counts[min(counts.count - 1, Int(time / window))] += 1 }
            return counts
        }
    }

    /// What the replicas and Redis record, on the clock's time, until the horizon.
    final class Recorder: Sendable {
        let clock: TestClock
        let state = Mutex(Report())
        /// `exp` of every token ever stored in Redis.
        let stored = Mutex<Set<Int>>([])

        init(clock: TestClock) { self.clock = clock }

        func mint() {
            let now = clock.now()
            guard !clock.isFinished else { return }
            state.withLock { $0.mints.append(now - clock.start) }
        }

        func command(replica: Int) {
            let now = clock.now()
            guard !clock.isFinished else { return }
            state.withLock {
                $0.commands.append(now - clock.start)
                $0.commandsPerReplica[replica] += 1
            }
        }
    }

    /// One replica's connection: the round trip on the clock, refusals during the outage, and a record of each
    /// command and of each token stored.
    struct Connection: RedisConnection {
        let replica: Int
        let redis: MemoryRedis
        let clock: TestClock
        let latency: Double
        let outage: Range<Double>?
        let recorder: Recorder
        let tokenKey: String

        func send(_ arguments: [String]) async throws -> RedisReply {
            do {
                try await clock.sleep(for: .nanoseconds(Int64(latency * 1e9)))
            } catch {
                throw RedisError(.io, "the simulation is over")
            }
            if let outage, outage.contains(clock.now() - clock.start) {
                if !clock.isFinished { recorder.state.withLock { $0.refused += 1 } }
                throw RedisError(.connect, "connection refused")
            }
            recorder.command(replica: replica)
            let reply = try await redis.send(arguments)
            if arguments[0] == "SET", arguments[1] == tokenKey, reply == .status("OK"),
                let token = MiroTokenSigner(clientID: Fixtures.clientID, secret: Secret(Fixtures.clientSecret))
                    .verify(arguments[2])
            {
                recorder.stored.withLock { _ = $0.insert(token.expiresAt) }
            }
            return reply
        }

        func close() async {}
    }

    /// Counts mints (`tokenmint_tokens_minted_total`) on the clock; every other metric is dropped.
    struct MintCounting: MetricsFactory {
        let recorder: Recorder

        final class Handler: CounterHandler {
            let recorder: Recorder
            init(_ recorder: Recorder) { self.recorder = recorder }
            func increment(by amount: Int64) { for _ in 0..<amount { recorder.mint() } }
            func reset() {}
        }

        func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
            label == "tokenmint_tokens_minted_total"
                ? Handler(recorder) : NOOPMetricsHandler.instance.makeCounter(label: label, dimensions: dimensions)
        }
        func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
            NOOPMetricsHandler.instance.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
        }
        func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
            NOOPMetricsHandler.instance.makeTimer(label: label, dimensions: dimensions)
        }
        func destroyCounter(_ handler: any CounterHandler) {}
        func destroyRecorder(_ handler: any RecorderHandler) {}
        func destroyTimer(_ handler: any TimerHandler) {}
    }

    func run() async -> Report {
        let clock = TestClock(horizon: TestClock().start + duration, participants: replicas + 1)
        let recorder = Recorder(clock: clock)
        recorder.state.withLock { $0.commandsPerReplica = Array(repeating: 0, count: replicas) }
        let redis = MemoryRedis(clock: clock)
        let secret = Secret(Fixtures.clientSecret)
        let signer = MiroTokenSigner(clientID: Fixtures.clientID, secret: secret)
        let keys = SharedTokenKeys(clientID: Fixtures.clientID, secret: secret)
        let logger = Logger(label: "simulation", factory: { _ in SwiftLogNoOpLogHandler() })
        var seeds = SeededRandom(seed: seed)
        var fleet: [(refresher: TokenRefresher, start: Double)] = []
        for replica in 0..<replicas {
            let metrics = TokenMetrics(factory: MintCounting(recorder: recorder))
            let connection = Connection(
                replica: replica,
                redis: redis,
                clock: clock,
                latency: latency,
                outage: outage,
                recorder: recorder,
                tokenKey: keys.token
            )
            let source = RedisTokenSource(
                connection: connection,
                signer: signer,
                secret: secret,
                timing: timing,
                tokenMetrics: metrics,
                redisMetrics: RedisMetrics(factory: NOOPMetricsHandler.instance),
                logger: logger,
                clock: clock,
                random: SeededRandom(seed: seeds.next())
            )
            let refresher = TokenRefresher(
                minter: TokenMinter(signer: signer, timing: timing, metrics: metrics),
                shared: source,
                cache: TokenCache(timing: timing),
                metrics: metrics,
                logger: logger,
                clock: clock,
                random: SeededRandom(seed: seeds.next())
            )
            let start = Double(seeds.next() % 1_000_000) / 1_000_000 * startSpread
            fleet.append((refresher, start))
        }
        let sampler = Sampler(simulation: self, clock: clock, redis: redis, recorder: recorder)
        let members = fleet
        let refreshers = fleet.map(\.refresher)
        // One serial queue runs every replica: a task woken by the clock continues on the thread that woke it, with
        // no hop between threads (which, on a busy machine, costs more than the replicas' own work).
        await withTaskExecutorPreference(SerialExecutor()) {
            await withTaskGroup(of: Void.self) { group in
                for (refresher, start) in members {
                    group.addTask {
                        do { try await clock.sleep(until: clock.start + start) } catch { return }
                        try? await refresher.prime(timeout: .seconds(60))
                        await refresher.run()
                    }
                }
                group.addTask { await sampler.run(refreshers) }
            }
        }
        return recorder.state.withLock { $0 }
    }

    /// Watches every replica each ``sampleInterval``: who serves a token of its own and for how long, whether the
    /// fleet converged after the outage; and takes Redis away (flushing it) when the outage starts.
    struct Sampler: Sendable {
        let simulation: FleetSimulation
        let clock: TestClock
        let redis: MemoryRedis
        let recorder: Recorder

        func run(_ fleet: [TokenRefresher]) async {
            var ownSince = [Double?](repeating: nil, count: fleet.count)
            var longest = 0.0
            var flushed = false
            var converged: Double?
            var unservable = 0
            var time = simulation.startSpread + 1
            while true {
                do { try await clock.sleep(until: clock.start + time) } catch { break }
                if let outage = simulation.outage, time >= outage.lowerBound, !flushed {
                    redis.flush()
                    flushed = true
                }
                let stored = recorder.stored.withLock { $0 }
                var held: Set<Int> = []
                let now = clock.now()
                for (index, refresher) in fleet.enumerated() {
                    guard let token = refresher.cache.held, simulation.timing.isServable(token, at: now) else {
                        unservable += 1
                        continue
                    }
                    held.insert(token.expiresAt)
                    if stored.contains(token.expiresAt) {
                        ownSince[index] = nil
                    } else {
                        let since = ownSince[index] ?? time
                        ownSince[index] = since
                        longest = max(longest, time - since)
                    }
                }
                if let outage = simulation.outage, time >= outage.upperBound, converged == nil, held.count == 1,
                    held.isSubset(of: stored)
                {
                    converged = time - outage.upperBound
                }
                time += simulation.sampleInterval
            }
            recorder.state.withLock {
                $0.longestOwnServing = longest
                $0.convergedAfterOutage = converged
                $0.unservableSamples = unservable
            }
        }
    }

    /// A task executor on one serial Dispatch queue.
    final class SerialExecutor: TaskExecutor {
        let queue = DispatchQueue(label: "tokenmint.simulation")

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }
}
