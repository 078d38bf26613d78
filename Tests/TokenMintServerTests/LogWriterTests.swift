import Dispatch
import Synchronization
import Testing

@testable import TokenMintServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The batching log writer: an idle one sleeps, the first line after a quiet spell still reaches the file, and an
/// event loop's own lane is written like the shared buffer.
@Suite struct LogWriterTests {
    /// A pipe whose read end does not block, closed at the end of `body`.
    func withPipe<T>(_ body: (_ read: Int32, _ write: Int32) throws -> T) rethrows -> T {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        defer {
            close(fds[0])
            close(fds[1])
        }
        return try body(fds[0], fds[1])
    }

    /// What arrives on `descriptor` within `seconds`, up to the first newline.
    func readLine(_ descriptor: Int32, within seconds: Int32) -> String {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<(seconds * 100) where !received.contains(10) {
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 10) > 0 else { continue }
            let count = read(descriptor, &chunk, chunk.count)
            if count > 0 { received += chunk.prefix(count) }
        }
        return String(decoding: received, as: UTF8.self)
    }

    @Test func anIdleWriterDoesNotWakeEveryInterval() {
        withPipe { _, write in
            let writer = LogWriter(descriptor: write)
            usleep(50_000)
            let before = writer.flushRounds.load(ordering: .relaxed)
            usleep(300_000)
            let rounds = writer.flushRounds.load(ordering: .relaxed) - before
            // Waking every 5 ms interval would be about 60 rounds; the bounded idle wait (1 s) allows one.
            #expect(rounds <= 1, "\(rounds) flush rounds in 300 ms of silence")
        }
    }

    /// With the idle wait at a minute, a line that arrives within seconds was woken for, not found by the timeout.
    @Test func theFirstLineAfterAQuietSpellWakesTheWriter() {
        withPipe { read, write in
            let writer = LogWriter(descriptor: write, idleWait: .seconds(60))
            usleep(50_000)
            writer.append(Array("after the quiet\n".utf8))
            #expect(readLine(read, within: 3) == "after the quiet\n")
            usleep(50_000)
            let lane = writer.makeLane()
            writer.append(to: lane) { $0 += Array("from a lane\n".utf8) }
            #expect(readLine(read, within: 3) == "from a lane\n")
        }
    }

    @Test func aLaneNoLongerHeldIsDroppedOnceWrittenOut() {
        withPipe { read, write in
            let writer = LogWriter(descriptor: write, idleWait: .seconds(60))
            var lane: LogWriter.Lane? = writer.makeLane()
            writer.append(to: lane) { $0 += Array("last words\n".utf8) }
            #expect(writer.laneCount == 1)
            lane = nil
            writer.flush()
            #expect(readLine(read, within: 3) == "last words\n", "a released lane's lines are still written")
            #expect(writer.laneCount == 0)
        }
    }

    /// A lane still held is kept after a flush, and a line appended to it afterwards still arrives.
    @Test func aLaneStillHeldSurvivesAFlush() {
        withPipe { read, write in
            let writer = LogWriter(descriptor: write, idleWait: .seconds(60))
            let lane = writer.makeLane()
            writer.append(to: lane) { $0 += Array("first\n".utf8) }
            writer.flush()
            #expect(readLine(read, within: 3) == "first\n")
            #expect(writer.laneCount == 1)
            writer.append(to: lane) { $0 += Array("second\n".utf8) }
            #expect(readLine(read, within: 3) == "second\n")
        }
    }

    /// A line every millisecond keeps the writer busy: it writes every round and never waits for a line between
    /// rounds, so no event loop pays for waking it.
    @Test func aBusyWriterDoesNotWaitBetweenRounds() {
        let devNull = open("/dev/null", O_WRONLY)
        defer { close(devNull) }
        let writer = LogWriter(descriptor: devNull, idleWait: .seconds(60))
        let lane = writer.makeLane()
        let line = Array(String(repeating: "x", count: 99).utf8) + [10]
        writer.append(to: lane) { $0 += line }
        usleep(20_000)
        let (roundsBefore, waitsBefore) = (
            writer.flushRounds.load(ordering: .relaxed), writer.idleWaits.load(ordering: .relaxed)
        )
        for _ in 0..<300 {
            writer.append(to: lane) { $0 += line }
            usleep(1_000)
        }
        let rounds = writer.flushRounds.load(ordering: .relaxed) - roundsBefore
        let waits = writer.idleWaits.load(ordering: .relaxed) - waitsBefore
        // Everything written before the descriptor closes: the writer outlives the test, and a later write would go
        // to whatever another test opened under that number.
        writer.flush()
        #expect(rounds >= 10, "the writer kept writing: \(rounds) rounds")
        // Sleeping whenever the buffers were empty for an instant after a batch was a wait every round; a loaded
        // machine that oversleeps the 1 ms pause may leave a round empty now and then.
        #expect(waits * 4 < rounds, "\(waits) waits for a line in \(rounds) busy rounds")
    }

    /// After bursts of lines from two lanes, each waking the writer again, a quiet writer sleeps: no wake-up is left
    /// over to keep it turning.
    @Test func aWriterBusyThenQuietSleeps() async {
        let devNull = open("/dev/null", O_WRONLY)
        defer { close(devNull) }
        let writer = LogWriter(descriptor: devNull, idleWait: .seconds(60))
        let line = Array(String(repeating: "x", count: 99).utf8) + [10]
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let lane = writer.makeLane()
                    // Bursts with pauses, so the flusher goes idle and is woken again and again.
                    for index in 0..<20_000 {
                        writer.append(to: lane) { $0 += line }
                        if index % 200 == 0 { usleep(2_000) }
                    }
                }
            }
        }
        usleep(100_000)
        let before = writer.flushRounds.load(ordering: .relaxed)
        usleep(300_000)
        let rounds = writer.flushRounds.load(ordering: .relaxed) - before
        #expect(rounds <= 1, "\(rounds) flush rounds in 300 ms after the load stopped")
    }
}
