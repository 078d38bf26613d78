import NIOCore
import Synchronization

/// What the connections of one event loop share: the ``TokenEndpoint`` (its prepared answer and readers) and
/// the output buffer between batches.
///
/// Under load each connection sends a request every few hundred others, so whatever a connection owns is cold in
/// the cache by the time its next request arrives. What every request touches lives here instead, once per core.
///
/// Used on its event loop only.
final class LoopShared {
    let endpoint: TokenEndpoint
    /// The last flushed batch's buffer, for the next batch of any connection on this loop.
    ///
    /// - Important: A batch's bytes are a value handed to `writeAndFlush`. While NIO still holds a buffer (a write
    ///   the socket did not take at once), the spare shares its storage, and `clear` gives the next batch new
    ///   storage instead of reusing it: a batch never reaches, or is overwritten by, another connection.
    private var spare: ByteBuffer?
    /// A batch buffer larger than this (a `/metrics` answer) is not kept.
    static let maximumSpareCapacity = 64 * 1024
    static let minimumCapacity = 1024

    init(endpoint: TokenEndpoint) {
        self.endpoint = endpoint
    }

    /// An empty buffer for a new batch: the spare when there is one.
    func takeOutput(minimumCapacity: Int) -> ByteBuffer {
        let capacity = max(minimumCapacity, Self.minimumCapacity)
        guard var buffer = spare else { return ByteBufferAllocator().buffer(capacity: capacity) }
        spare = nil
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    /// Keeps a flushed batch's buffer as the spare, unless it is large.
    func returnOutput(_ buffer: ByteBuffer) {
        spare = buffer.capacity <= Self.maximumSpareCapacity ? buffer : nil
    }
}

/// One ``LoopShared`` per event loop, made on that loop by its first connection.
final class LoopSharedSet: Sendable {
    private let environment: HandlerEnvironment
    private let byLoop = Mutex<[ObjectIdentifier: NIOLoopBound<LoopShared>]>([:])

    init(environment: HandlerEnvironment) {
        self.environment = environment
    }

    /// The share of `eventLoop`, which must be the calling thread's.
    func shared(on eventLoop: any EventLoop) -> LoopShared {
        byLoop.withLock { byLoop in
            if let existing = byLoop[ObjectIdentifier(eventLoop)] { return existing.value }
            let made = LoopShared(endpoint: TokenEndpoint(environment: environment))
            byLoop[ObjectIdentifier(eventLoop)] = NIOLoopBound(made, eventLoop: eventLoop)
            return made
        }
    }
}
