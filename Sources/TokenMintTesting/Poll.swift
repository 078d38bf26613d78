/// Waiting in a test for something that happens in the background: another process, a timer, a reload.
///
/// - Important: Bounded: `condition` is checked every `interval` while the deadline has not passed, so a wait ends
///   within the deadline plus one interval and one check, and says whether the condition held (the test asserts on
///   that). Cancelling the waiting task ends it at once (the sleep throws).
public enum Poll {
    /// True as soon as `condition` holds; false once `timeout` has passed since the call.
    public static func until(
        timeout: Duration,
        every interval: Duration = .milliseconds(50),
        _ condition: () async throws -> Bool
    ) async throws -> Bool {
        try await until(deadline: .now + timeout, every: interval, condition)
    }

    /// True as soon as `condition` holds; false once `deadline` has passed (for a deadline counted from an event
    /// before the call).
    public static func until(
        deadline: ContinuousClock.Instant,
        every interval: Duration = .milliseconds(50),
        _ condition: () async throws -> Bool
    ) async throws -> Bool {
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: interval)
        }
        return false
    }
}
