import Glibc
import Testing

@testable import TokenMintTesting

/// ``LoopbackPorts``: the ports test servers listen on stay out of the kernel's own range and are not handed out
/// twice, so a killed server's port is not taken by the next `bind(0)` while its clients are expected to notice.
@Suite struct LoopbackPortsTests {
    @Test func portsAreDistinctFreeAndOutsideTheKernelsRange() throws {
        let kernel = LoopbackPorts.kernelRange()
        var seen: Set<Int> = []
        for _ in 0..<200 {
            let port = try LoopbackPorts.reserve()
            #expect(seen.insert(port).inserted, "port \(port) handed out twice")
            #expect(LoopbackPorts.isFree(port), "port \(port) was handed out while bound")
            #expect((1_024..<65_536).contains(port))
            if let kernel { #expect(!kernel.contains(port), "port \(port) is in the kernel's range \(kernel)") }
        }
    }

    @Test func aPortSomeoneListensOnIsNotFree() throws {
        let port = try LoopbackPorts.reserve()
        #expect(LoopbackPorts.isFree(port))
        let fd = try #require(LoopbackPorts.bindSocket(port: port, listening: true))
        defer { close(fd) }
        #expect(!LoopbackPorts.isFree(port), "port \(port) has a listener")
    }

    /// Below the kernel's range; above it when too little is left below; a fixed span when neither side has room.
    @Test func theRangeAvoidsTheKernelsWhereverItCan() {
        #expect(LoopbackPorts.Allocator.ports(outside: 32_768..<61_000) == 20_768..<32_768)
        #expect(LoopbackPorts.Allocator.ports(outside: 1_500..<50_000) == 50_000..<62_000)
        #expect(LoopbackPorts.Allocator.ports(outside: 1_024..<60_000) == 60_000..<65_536)
        let everything = LoopbackPorts.Allocator.ports(outside: 1_024..<65_536)
        #expect(everything == 20_000..<32_000, "no room either side: never an empty range")
        for kernel in [0..<65_536, 1..<2, 65_000..<65_536, 1_024..<1_025] {
            let ports = LoopbackPorts.Allocator.ports(outside: kernel)
            #expect(ports.count >= 1_000 && ports.lowerBound >= 1_024 && ports.upperBound <= 65_536, "\(kernel)")
        }
    }

    @Test func theAllocatorVisitsEveryPortOncePerPass() {
        var allocator = LoopbackPorts.Allocator(range: 100..<105, cursor: 103)
        #expect((0..<7).map { _ in allocator.advance() } == [103, 104, 100, 101, 102, 103, 104])
    }
}
