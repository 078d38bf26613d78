/// The health check a Redis connection runs beside its commands: `check` every `seconds`, none at 0.
///
/// - Important: The loop holds its owner weakly, and strongly only for the length of one check, so a connection
///   dropped without `close()` is freed and its loop ends at its next wake. Every wait is a `Task.sleep`, which ends
///   at once when the returned task is cancelled: the owner's `close()` cancels it and awaits its value. Each check is
///   bounded by the owner's own connect and command timeouts.
enum RedisHealthCheckLoop {
    static func start<Owner: AnyObject & Sendable>(
        every seconds: Int,
        owner: Owner,
        check: @escaping @Sendable (Owner) async -> Void
    ) -> Task<Void, Never>? {
        guard seconds > 0 else { return nil }
        return Task { [weak owner] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: .seconds(seconds)) } catch { return }
                guard let owner else { return }
                await check(owner)
            }
        }
    }
}
