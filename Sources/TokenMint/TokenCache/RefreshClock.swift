/// The time the refresh decisions run on: Unix seconds (as JWTs count), and sleeping until one.
///
/// Passed in, so a test clock can check a schedule exactly and a simulation can run a fleet's hour in seconds.
public protocol RefreshClock: Sendable {
    /// Unix seconds.
    func now() -> Double

    /// Returns at `deadline` (Unix seconds) or later, at once when it has passed.
    ///
    /// - Throws: `CancellationError` when the task is cancelled (graceful shutdown).
    func sleep(until deadline: Double) async throws
}

extension RefreshClock {
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now() + duration.seconds)
    }
}

/// The wall clock: ``UnixTime/now()`` (or the `now` given, for a test that shifts time) and `Task.sleep`.
public struct SystemRefreshClock: RefreshClock {
    private let reading: @Sendable () -> Double

    public init(now: @escaping @Sendable () -> Double = UnixTime.now) {
        reading = now
    }

    public func now() -> Double { reading() }

    public func sleep(until deadline: Double) async throws {
        let delay = deadline - reading()
        guard delay > 0 else { return try Task.checkCancellation() }
        try await Task.sleep(for: .nanoseconds(Int64((delay * 1e9).rounded(.up))))
    }
}
