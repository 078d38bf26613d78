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
            #expect((1_024..<65_536).contains(port))
            if let kernel { #expect(!kernel.contains(port), "port \(port) is in the kernel's range \(kernel)") }
        }
    }

    @Test func aPortSomeoneListensOnIsNotFree() throws {
        let port = try LoopbackPorts.reserve()
        #expect(LoopbackPorts.isFree(port))
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let listening = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 && listen(fd, 1) == 0
            }
        }
        try #require(listening)
        #expect(!LoopbackPorts.isFree(port), "port \(port) has a listener")
    }

    @Test func theAllocatorVisitsEveryPortOncePerPass() {
        var allocator = LoopbackPorts.Allocator(range: 100..<105, cursor: 103)
        #expect((0..<7).map { _ in allocator.advance() } == [103, 104, 100, 101, 102, 103, 104])
    }
}
