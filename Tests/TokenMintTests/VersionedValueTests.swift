import Synchronization
import Testing

@testable import TokenMint

/// The versioned value behind the token cache and the caller verifier: what a per-loop reader sees and when it
/// takes the lock.
@Suite struct VersionedValueTests {
    @Test func aReaderSeesEveryChange() {
        let shared = VersionedValue(1)
        var reader = VersionedValue<Int>.Reader()
        #expect(reader.value(of: shared) == 1)
        shared.update { value in
            value = 2
            return ((), changed: true)
        }
        #expect(reader.value(of: shared) == 2)
        #expect(shared.value == 2)
    }

    /// Only a write that says it changed the value moves the version: readers keep what they read without the
    /// lock. A write that changes the value and says otherwise is therefore not seen, which is the contract.
    @Test func aWriteThatKeepsTheValueDoesNotMoveTheVersion() {
        let shared = VersionedValue(1)
        var reader = VersionedValue<Int>.Reader()
        #expect(reader.value(of: shared) == 1)
        let result = shared.update { value in
            value = 3
            return ("kept", changed: false)
        }
        #expect(result == "kept")
        #expect(reader.value(of: shared) == 1, "no reload without a version change")
        var fresh = VersionedValue<Int>.Reader()
        #expect(fresh.value(of: shared) == 3, "a new reader reads under the lock")
    }

    /// Readers on other threads never see a value older than one they have already seen, and see the last one.
    @Test func readersOnOtherThreadsSeeChangesInOrder() async {
        let shared = VersionedValue(0)
        let done = Flag()
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    var reader = VersionedValue<Int>.Reader()
                    var last = 0
                    // Bounded: the writer finishes in well under this many reads.
                    for _ in 0..<50_000_000 {
                        let finished = done.value.load(ordering: .acquiring)
                        let seen = reader.value(of: shared)
                        if seen < last { return false }
                        last = seen
                        if finished { return seen == 1000 }
                    }
                    return false
                }
            }
            for step in 1...1000 {
                shared.update { value in
                    value = step
                    return ((), changed: true)
                }
            }
            done.value.store(true, ordering: .releasing)
            for await inOrder in group { #expect(inOrder) }
        }
    }

    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }
}
