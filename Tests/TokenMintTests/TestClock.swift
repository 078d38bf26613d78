import Synchronization

@testable import TokenMint

/// A virtual ``RefreshClock``: time moves only when every participant sleeps, and then straight to the earliest
/// wake-up, so a schedule is exact however busy the machine is, and a fleet's hour passes in as long as its work
/// takes. Past ``horizon`` every sleep throws `CancellationError`, which ends the loops that sleep on it.
///
/// - Important: `participants` is the number of tasks that sleep on this clock; each must sleep (or ``leave()``)
///   before time moves, so a participant must never wait on anything but this clock and the others' progress.
final class TestClock: RefreshClock, @unchecked Sendable {
    private struct Sleeper {
        let at: Double
        let order: Int
        let continuation: CheckedContinuation<Void, any Error>

        func precedes(_ other: Sleeper) -> Bool { at < other.at || (at == other.at && order < other.order) }
    }

    private struct State {
        var now: Double
        var running: Int
        var heap: [Sleeper] = []
        var order = 0
        var finished = false
        var sleeps: [Double] = []
    }

    let start: Double
    let horizon: Double
    private let state: Mutex<State>

    init(start: Double = 1_000_000, horizon: Double = .infinity, participants: Int = 1) {
        self.start = start
        self.horizon = horizon
        state = Mutex(State(now: start, running: participants))
    }

    func now() -> Double { state.withLock { $0.now } }

    /// Every deadline slept until, in order.
    var sleeps: [Double] { state.withLock { $0.sleeps } }
    /// Whether the horizon has been reached.
    var isFinished: Bool { state.withLock { $0.finished } }

    func sleep(until deadline: Double) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let wake = state.withLock { state -> [(CheckedContinuation<Void, any Error>, Bool)] in
                if state.finished { return [(continuation, false)] }
                state.sleeps.append(deadline)
                Self.push(Sleeper(at: max(deadline, state.now), order: state.order, continuation: continuation), &state)
                state.order += 1
                state.running -= 1
                return Self.dispatch(&state, horizon: horizon)
            }
            for (continuation, proceed) in wake {
                if proceed { continuation.resume() } else { continuation.resume(throwing: CancellationError()) }
            }
        }
    }

    /// A participant that will never sleep again.
    func leave() {
        let wake = state.withLock { state in
            state.running -= 1
            return Self.dispatch(&state, horizon: horizon)
        }
        for (continuation, proceed) in wake {
            if proceed { continuation.resume() } else { continuation.resume(throwing: CancellationError()) }
        }
    }

    /// Once nobody runs: wakes the earliest sleeper, or everyone (to throw) past the horizon.
    private static func dispatch(
        _ state: inout State,
        horizon: Double
    ) -> [(CheckedContinuation<Void, any Error>, Bool)] {
        guard state.running == 0, let first = state.heap.first else { return [] }
        if first.at > horizon {
            state.finished = true
            defer { state.heap = [] }
            return state.heap.map { ($0.continuation, false) }
        }
        _ = pop(&state)
        state.now = first.at
        state.running += 1
        return [(first.continuation, true)]
    }

    private static func push(_ sleeper: Sleeper, _ state: inout State) {
        state.heap.append(sleeper)
        var child = state.heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard state.heap[child].precedes(state.heap[parent]) else { break }
            state.heap.swapAt(child, parent)
            child = parent
        }
    }

    private static func pop(_ state: inout State) -> Sleeper {
        let first = state.heap[0]
        let last = state.heap.removeLast()
        if !state.heap.isEmpty {
            state.heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < state.heap.count, state.heap[left].precedes(state.heap[smallest]) { smallest = left }
                if right < state.heap.count, state.heap[right].precedes(state.heap[smallest]) { smallest = right }
                if smallest == parent { break }
                state.heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}

/// A generator that always answers 0: every jitter is at its lowest, every refresh point at 25 % of the window, so a
/// test can name the exact schedule. Only for draws the project makes itself: the standard library's bounded draws
/// (`Int.random(in:using:)`) reject 0 forever.
struct ZeroRandom: RandomNumberGenerator {
    mutating func next() -> UInt64 { 0 }
}
