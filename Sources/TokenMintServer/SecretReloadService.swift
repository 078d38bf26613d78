import ServiceLifecycle
import TokenMint
import UnixSignals

/// Polls the watched files every `SECRET_RELOAD_SECONDS` and reloads at once on SIGHUP, until graceful shutdown.
///
/// swift-configuration's `ReloadingFileProvider` watches one structured file (JSON, YAML); a Kubernetes Secret
/// mounts one raw value per file, read through the `X_FILE` convention, so this service re-runs the same settings
/// load the replica started with instead.
struct SecretReloadService: Service {
    let reloader: SecretReloader
    /// nil: SIGHUP only.
    let interval: Duration?

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        let (triggers, continuation) = AsyncStream.makeStream(
            of: SecretReloadStateMachine.Trigger.self,
            bufferingPolicy: .bufferingNewest(1)
        )
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in signals { continuation.yield(.signal) }
            }
            if let interval {
                group.addTask {
                    while (try? await Task.sleep(for: interval)) != nil { continuation.yield(.poll) }
                }
            }
            await cancelWhenGracefulShutdown {
                for await trigger in triggers { await reloader.check(trigger) }
            }
            group.cancelAll()
        }
        continuation.finish()
    }
}
