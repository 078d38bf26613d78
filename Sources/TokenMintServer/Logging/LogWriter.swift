import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes log lines to a file descriptor from a background thread, in batches.
///
/// Every issued token gets an audit line, so at full load logging is on the hot path. Event loops only append to an
/// in-memory buffer under a lock held for one line (the audit line is formatted under it, a few hundred bytes); a
/// dedicated thread writes the batches every few milliseconds. Each buffer is bounded: once the shared one holds
/// ``maximumBufferedBytes``, or a lane ``maximumLaneBytes`` (passed by at most the last line), its lines are dropped
/// and counted, never blocking an event loop. A stalled output so holds at most 8 MiB plus 2 MiB per event loop, and
/// after it drains a buffer keeps at most ``maximumSpareBytes`` of capacity.
///
/// Lines go to the shared buffer, or to a ``Lane`` of their own: one per event loop for the audit line, so two
/// cores never take one lock or write one buffer's cache lines by turns on every request. Lines of one lane keep
/// their order; lines of different lanes interleave by batch (each carries its own timestamp).
///
/// An idle writer sleeps until a line arrives instead of waking every few milliseconds: an idle replica costs no
/// CPU for its logs. The first line after a quiet spell wakes it; it then waits one ``flushInterval`` so the lines
/// that follow are written in the same batch. Only a round that found nothing to write goes to sleep: under load the
/// buffers are empty for an instant after each batch, and sleeping then would have an event loop pay for a wake-up
/// (a futex call) every round.
public final class LogWriter: Sendable {
    /// The bound of the shared buffer.
    public static let maximumBufferedBytes = 8 << 20
    /// The bound of each event loop's lane: at full load a few hundred milliseconds of audit lines.
    public static let maximumLaneBytes = 2 << 20
    /// The most capacity a written batch keeps for reuse; a larger one (after a stall) is freed.
    static let maximumSpareBytes = 1 << 20
    static let flushInterval: UInt32 = 5_000  // microseconds
    /// The longest the idle flusher sleeps without a line: its wait is bounded like every other.
    static let idleWait = DispatchTimeInterval.seconds(1)

    /// A buffer of lines, appended to under its lock by one event loop (or, for the shared one, by any thread).
    final class Lane: Sendable {
        fileprivate let buffer = Mutex(LaneBuffer())
        fileprivate let bound: Int
        fileprivate init(bound: Int) { self.bound = bound }
    }

    fileprivate struct LaneBuffer {
        var bytes: [UInt8] = []
        /// The batch last written, emptied with its capacity kept: swapped in as the next buffer, so appends after a
        /// flush neither allocate nor copy while the buffer grows back.
        var spare: [UInt8] = []
        var dropped = 0

        var isEmpty: Bool { bytes.isEmpty && dropped == 0 }
    }

    private let descriptor: Int32
    private let shared = Lane(bound: LogWriter.maximumBufferedBytes)
    /// The lanes handed out; one no longer held elsewhere is dropped once it is written out.
    private let lanes = Mutex<[Lane]>([])
    /// The flusher found nothing to write and waits on `wake`; an append that sees it signals once.
    private let flusherWaiting = Atomic<Bool>(false)
    /// Signalled by the first append the idle flusher waits for; monotonic, bounded waits.
    private let wake = DispatchSemaphore(value: 0)
    /// Held across taking a buffer and writing it, so a flush at exit and the flusher's never interleave batches.
    private let writing = Mutex(())
    private let idleWait: DispatchTimeInterval
    /// Rounds of the flush loop so far, for tests: an idle writer must not add one every ``flushInterval``.
    let flushRounds = Atomic<Int>(0)
    /// Times the flusher waited for a line, for tests: a busy writer must not wait between its rounds.
    let idleWaits = Atomic<Int>(0)

    /// Standard output, for JSON lines.
    public static let standardOutput = LogWriter(descriptor: 1)
    /// Standard error, for human-readable lines.
    public static let standardError = LogWriter(descriptor: 2)

    /// - Parameter idleWait: tests lengthen it, so a lost wake-up shows as a line that does not arrive.
    init(descriptor: Int32, idleWait: DispatchTimeInterval = LogWriter.idleWait) {
        self.descriptor = descriptor
        self.idleWait = idleWait
        let thread = Thread { [self] in self.flushLoop() }
        thread.start()
    }

    /// A buffer for one event loop's lines, written with the others'.
    func makeLane() -> Lane {
        let lane = Lane(bound: Self.maximumLaneBytes)
        lanes.withLock { $0.append(lane) }
        return lane
    }

    /// Lanes handed out and not yet dropped, for tests.
    var laneCount: Int { lanes.withLock { $0.count } }

    func append(_ line: [UInt8]) {
        shared.buffer.withLock { buffer in
            if buffer.bytes.count + line.count < shared.bound {
                buffer.bytes.append(contentsOf: line)
            } else {
                buffer.dropped += 1
            }
        }
        wakeFlusherIfWaiting()
    }

    /// Appends the line `write` writes straight into `lane` (the shared buffer when nil), under its lock: for a line
    /// built on every request, which would otherwise be built in a buffer of its own and copied. `write` must only
    /// append, only a line of bounded length (the buffer may pass its bound by that much), and must not log: the
    /// lock is not re-entrant.
    func append(to lane: Lane? = nil, writing write: (inout [UInt8]) -> Void) {
        let lane = lane ?? shared
        lane.buffer.withLock { buffer in
            if buffer.bytes.count < lane.bound {
                write(&buffer.bytes)
            } else {
                buffer.dropped += 1
            }
        }
        wakeFlusherIfWaiting()
    }

    /// The appender's half of the idle hand-off: the fence orders the append before the load, as the flusher's
    /// orders its store before looking at the buffers, so one of the two always sees the other.
    private func wakeFlusherIfWaiting() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if flusherWaiting.load(ordering: .relaxed), flusherWaiting.exchange(false, ordering: .acquiringAndReleasing) {
            wake.signal()
        }
    }

    /// Writes what is buffered now; called at exit so the last lines are not lost.
    public func flush() {
        _ = writeBatch()
    }

    /// - Returns: whether there was anything to write.
    private func writeBatch() -> Bool {
        writing.withLock { _ in writeLanes() }
    }

    private func writeLanes() -> Bool {
        var wrote = writeOut(shared)
        do {
            // A scope of its own: the copy must be gone before the uniqueness check below.
            let handedOut = lanes.withLock { $0 }
            for lane in handedOut where writeOut(lane) { wrote = true }
        }
        lanes.withLock { lanes in
            var index = 0
            while index < lanes.count {
                // Held only here: nobody can append to it any more, so once empty it is done.
                if isKnownUniquelyReferenced(&lanes[index]), lanes[index].buffer.withLock({ $0.isEmpty }) {
                    lanes.remove(at: index)
                } else {
                    index += 1
                }
            }
        }
        return wrote
    }

    /// Swaps `lane`'s buffer out under its lock and writes it outside, so event loops never wait on the write.
    ///
    /// - Returns: whether the lane held lines (or dropped some).
    private func writeOut(_ lane: Lane) -> Bool {
        var (bytes, dropped) = lane.buffer.withLock { buffer -> ([UInt8], Int) in
            var taken: [UInt8] = []
            swap(&taken, &buffer.spare)
            swap(&taken, &buffer.bytes)
            defer { buffer.dropped = 0 }
            return (taken, buffer.dropped)
        }
        if dropped > 0 {
            writeAll(
                Array(#"{"level":"warning","msg":"log lines dropped: buffer full","dropped":\#(dropped)}"#.utf8) + [10]
            )
        }
        let wroteBytes = !bytes.isEmpty
        if wroteBytes { writeAll(bytes) }
        bytes.removeAll(keepingCapacity: true)
        lane.buffer.withLock { buffer in
            if buffer.spare.capacity < bytes.capacity, bytes.capacity <= Self.maximumSpareBytes {
                swap(&buffer.spare, &bytes)
            }
        }
        return dropped > 0 || wroteBytes
    }

    private var isEmpty: Bool {
        guard shared.buffer.withLock({ $0.isEmpty }) else { return false }
        return lanes.withLock { lanes in lanes.allSatisfy { $0.buffer.withLock { $0.isEmpty } } }
    }

    private func flushLoop() {
        var wroteLastRound = false
        while true {
            flushRounds.add(1, ordering: .relaxed)
            if !wroteLastRound { sleepWhileIdle() }
            usleep(Self.flushInterval)
            wroteLastRound = writeBatch()
        }
    }

    /// The flusher's half of the idle hand-off (see `wakeFlusherIfWaiting`). Whoever clears `flusherWaiting` owns
    /// the signal: an appender that cleared it signals, and the flusher takes that signal here, so no signal is left
    /// over to wake an idle writer later.
    private func sleepWhileIdle() {
        guard isEmpty else { return }
        idleWaits.add(1, ordering: .relaxed)
        flusherWaiting.store(true, ordering: .sequentiallyConsistent)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if isEmpty, wake.wait(timeout: .now() + idleWait) == .success { return }
        if !flusherWaiting.exchange(false, ordering: .acquiringAndReleasing) {
            // An appender cleared it: its signal is sent or about to be.
            _ = wake.wait(timeout: .now() + idleWait)
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            var attempts = 0
            while offset < raw.count, attempts < 1000 {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0, errno == EINTR || errno == EAGAIN {
                    attempts += 1
                } else {
                    return
                }
            }
        }
    }
}

/// A plain thread: the flush loop must not occupy a Swift concurrency or NIO thread.
private final class Thread: @unchecked Sendable {
    private let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    func start() {
        var handle = pthread_t()
        let box = Unmanaged.passRetained(self)
        let result = pthread_create(
            &handle,
            nil,
            { raw in
                let thread = Unmanaged<Thread>.fromOpaque(raw!).takeRetainedValue()
                thread.body()
                return nil
            },
            box.toOpaque()
        )
        if result == 0 { pthread_detach(handle) } else { box.release() }
    }
}
