import Logging
import ServiceLifecycle
import Synchronization
import TokenMint

/// One client secret's way to the next token: its source (minted here, or shared through Redis over a connection of
/// its own) and the refresher that keeps the cache filled from it.
struct TokenPipeline: Sendable {
    let refresher: TokenRefresher
    /// Closes the Redis connection, if any; called once the refresher has stopped.
    let close: @Sendable () async -> Void
    /// What `/readyz` says of Redis: `disabled`, `ok` or `degraded`.
    let redisState: @Sendable () -> String
    /// The Redis node in use (`host:port`), for `/readyz`; nil without Redis, `none` while no node is known.
    let redisNode: @Sendable () -> String?
}

/// The pipeline in force, replaced whole when a reload brings a new client secret or Redis password.
///
/// - Important: A replacement stops the old refresher, and waits for any refresh it has in flight to store its token,
///   before the new one primes: the new token is stored last, so no token signed with the old secret is served after
///   the new one is.
final class TokenPipelines: Sendable {
    private struct State {
        var pipeline: TokenPipeline
        var task: Task<Void, Never>?
        var stopped = false
    }

    private let state: Mutex<State>

    init(_ pipeline: TokenPipeline) {
        state = Mutex(State(pipeline: pipeline))
    }

    var current: TokenPipeline { state.withLock { $0.pipeline } }

    /// Starts the current refresher's loop.
    func start() {
        state.withLock { state in
            guard !state.stopped, state.task == nil else { return }
            let refresher = state.pipeline.refresher
            state.task = Task { await refresher.run() }
        }
    }

    /// Replaces the pipeline: stops the old refresher, primes the new one (bounded), starts it, closes the old one.
    ///
    /// - Throws: the new pipeline's priming error; the old pipeline is then restarted and stays in force.
    func replace(with pipeline: TokenPipeline, primeTimeout: Duration) async throws {
        let (old, oldTask) = state.withLock { state in
            let old = (state.pipeline, state.task)
            state.task = nil
            return old
        }
        oldTask?.cancel()
        await oldTask?.value
        do {
            try await pipeline.refresher.prime(timeout: primeTimeout)
        } catch {
            await pipeline.close()
            start()
            throw error
        }
        let stopped = state.withLock { state in
            if state.stopped { return true }
            state.pipeline = pipeline
            return false
        }
        if stopped {
            await pipeline.close()
            return
        }
        start()
        await old.close()
    }

    /// Stops the refresher and closes the pipeline (graceful shutdown); later replacements are closed unused.
    func stop() async {
        let (pipeline, task) = state.withLock { state in
            state.stopped = true
            let current = (state.pipeline, state.task)
            state.task = nil
            return current
        }
        task?.cancel()
        await task?.value
        await pipeline.close()
    }
}

/// Runs the token pipelines until graceful shutdown. Listed before the server, so it stops after the server has
/// drained.
struct RefreshService: Service {
    let pipelines: TokenPipelines

    func run() async throws {
        pipelines.start()
        try? await gracefulShutdown()
        // No lock is held here: a refresh releases its lock before it returns, cancelled or not.
        await pipelines.stop()
    }
}
