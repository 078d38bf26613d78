import Synchronization

/// A value behind a lock, with a version that counts its changes, so hot readers can skip the lock.
///
/// Every request reads the token and the caller verifier, and both change rarely. A lock taken by every request
/// from every core moves its cache line between the cores each time; a ``Reader`` per event loop instead does one
/// atomic load per read and takes the lock only after a change.
///
/// A reader that sees the version of a change reads, under the lock, that change or a later one; a reader that has
/// not seen it yet keeps the value before it, as a read that took the lock a moment earlier would.
public final class VersionedValue<Value: Sendable>: Sendable {
    @usableFromInline let state: Mutex<Value>
    /// Counts changes of `state`; bumped under the lock, after the change.
    @usableFromInline let version = Atomic<UInt64>(0)

    public init(_ value: Value) {
        state = Mutex(value)
    }

    /// The value now, under the lock.
    @inlinable public var value: Value { state.withLock { $0 } }

    /// Changes the value under the lock. `body` says whether it changed anything: only a change moves the version,
    /// so a write that keeps the value does not make every reader take the lock.
    @inlinable
    public func update<Result>(_ body: (inout Value) -> (result: Result, changed: Bool)) -> Result {
        state.withLock { value in
            let (result, changed) = body(&value)
            if changed { version.add(1, ordering: .releasing) }
            return result
        }
    }

    /// One thread's view of a ``VersionedValue``: the value it last read, and the version then.
    public struct Reader {
        /// `.max` is a version no value has yet, so the first read always takes the lock.
        @usableFromInline var version = UInt64.max
        @usableFromInline var cached: Value?

        public init() {}

        /// The value of `source`, reloaded only when its version moved since the last read.
        @inlinable
        public mutating func value(of source: VersionedValue<Value>) -> Value {
            let current = source.version.load(ordering: .acquiring)
            if current != version {
                cached = source.value
                version = current
            }
            // Set by the first read: `version` starts at a value no source reaches.
            return cached!
        }
    }
}
