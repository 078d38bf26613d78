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
/// dedicated thread writes the batch every few milliseconds. The buffer is bounded: once it holds
/// ``maximumBufferedBytes`` (passed by at most the last line), lines are dropped and counted, never blocking an event
/// loop.
///
/// An idle writer sleeps until a line arrives instead of waking every few milliseconds: an idle replica costs no
/// CPU for its logs. The first line after a quiet spell wakes it; it then waits one ``flushInterval`` so the lines
/// that follow are written in the same batch.
public final class LogWriter: Sendable {
    public static let maximumBufferedBytes = 8 << 20
    static let flushInterval: UInt32 = 5_000  // microseconds

    private struct Buffer {
        var bytes: [UInt8] = []
        /// The batch last written, emptied with its capacity kept: swapped in as the next buffer, so appends after a
        /// flush neither allocate nor copy while the buffer grows back.
        var spare: [UInt8] = []
        var dropped = 0
        /// The flusher found nothing to write and waits on `wake`; the next append signals it.
        var flusherWaiting = false

        /// Whether the flusher waits for this append: then the appender signals it (once), outside the lock.
        mutating func takeWaitingFlusher() -> Bool {
            defer { flusherWaiting = false }
            return flusherWaiting
        }
    }

    private let descriptor: Int32
    private let buffer = Mutex(Buffer())
    private let wake = WakeSignal()
    /// The longest the idle flusher sleeps without a line: its wait is bounded like every other.
    static let idleWaitSeconds = 1
    /// Rounds of the flush loop so far, for tests: an idle writer must not add one every ``flushInterval``.
    let flushRounds = Atomic<Int>(0)

    /// Standard output, for JSON lines.
    public static let standardOutput = LogWriter(descriptor: 1)
    /// Standard error, for human-readable lines.
    public static let standardError = LogWriter(descriptor: 2)

    init(descriptor: Int32) {
        self.descriptor = descriptor
        let thread = Thread { [self] in self.flushLoop() }
        thread.start()
    }

    func append(_ line: [UInt8]) {
        let wakeFlusher = buffer.withLock { buffer in
            if buffer.bytes.count + line.count < Self.maximumBufferedBytes {
                buffer.bytes.append(contentsOf: line)
            } else {
                buffer.dropped += 1
            }
            return buffer.takeWaitingFlusher()
        }
        if wakeFlusher { wake.signal() }
    }

    /// Appends the line `write` writes straight into the buffer, under the lock: for a line built on every request,
    /// which would otherwise be built in a buffer of its own and copied. `write` must only append, only a line of
    /// bounded length (the buffer may pass its bound by that much), and must not log: the lock is not re-entrant.
    func append(writing write: (inout [UInt8]) -> Void) {
        let wakeFlusher = buffer.withLock { buffer in
            if buffer.bytes.count < Self.maximumBufferedBytes {
                write(&buffer.bytes)
            } else {
                buffer.dropped += 1
            }
            return buffer.takeWaitingFlusher()
        }
        if wakeFlusher { wake.signal() }
    }

    /// Writes what is buffered now; called at exit so the last lines are not lost.
    public func flush() {
        // Swap the buffer out under the lock and write outside it, so event loops never wait on the write.
        var (bytes, dropped) = buffer.withLock { buffer -> ([UInt8], Int) in
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
        if !bytes.isEmpty { writeAll(bytes) }
        bytes.removeAll(keepingCapacity: true)
        buffer.withLock { buffer in
            if buffer.spare.capacity < bytes.capacity { swap(&buffer.spare, &bytes) }
        }
    }

    private func flushLoop() {
        while true {
            flushRounds.add(1, ordering: .relaxed)
            let idle = buffer.withLock { buffer in
                buffer.flusherWaiting = buffer.bytes.isEmpty && buffer.dropped == 0
                return buffer.flusherWaiting
            }
            if idle { wake.wait(seconds: Self.idleWaitSeconds) }
            usleep(Self.flushInterval)
            flush()
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

/// A POSIX semaphore the idle flusher waits on, with a bound.
private final class WakeSignal: @unchecked Sendable {
    private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    init() { sem_init(semaphore, 0, 0) }

    func signal() { sem_post(semaphore) }

    /// Returns when signalled, after `seconds` at the latest (or on a signal interrupting the wait).
    func wait(seconds: Int) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        deadline.tv_sec += seconds
        _ = sem_timedwait(semaphore, &deadline)
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
