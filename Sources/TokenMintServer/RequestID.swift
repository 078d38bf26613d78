import NIOCore
import TokenMint

/// `X-Request-Id`: the caller's own when it is sane, otherwise one made here.
///
/// Made IDs are a per-connection random prefix and a counter: unique enough to correlate a log line with a
/// response, and free of a random draw per request. A made ID is never built as a `String` on the hot path: its
/// digits are written straight into the answer and the audit line.
enum RequestID: Equatable, CustomStringConvertible {
    /// A caller-supplied ID that passed ``isSane(_:)``.
    case supplied(String)
    /// `prefix` (16 hex digits and `-`) followed by the decimal `counter`.
    case made(prefix: String, counter: UInt64)

    var description: String {
        switch self {
        case .supplied(let value): value
        case .made(let prefix, let counter): prefix + String(counter)
        }
    }

    /// Writes the ID's bytes: the same as `description`'s UTF-8.
    func write(into buffer: inout ByteBuffer) {
        switch self {
        case .supplied(let value):
            buffer.writeString(value)
        case .made(let prefix, let counter):
            buffer.writeString(prefix)
            Self.forEachDigit(of: counter) { buffer.writeInteger($0) }
        }
    }

    /// Appends the ID's bytes: the same as `description`'s UTF-8.
    func append(to line: inout [UInt8]) {
        switch self {
        case .supplied(let value):
            line.append(contentsOf: value.utf8)
        case .made(let prefix, let counter):
            line.append(contentsOf: prefix.utf8)
            Self.forEachDigit(of: counter) { line.append($0) }
        }
    }

    /// The decimal digits of `value`, most significant first.
    @inline(__always)
    private static func forEachDigit(of value: UInt64, _ body: (UInt8) -> Void) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor &*= 10 }
        var rest = value
        while divisor > 0 {
            body(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// A caller-supplied ID is echoed (and logged) only when it is short and made of safe characters, so it can
    /// neither forge log structure nor smuggle a header.
    static func isSane(_ value: String) -> Bool {
        let utf8 = value.utf8
        guard (1...128).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "+"), UInt8(ascii: "="):
                true
            default:
                false
            }
        }
    }
}

/// Makes the IDs of one connection's requests: one random prefix, then a counter.
struct RequestIDGenerator {
    private let prefix: String
    private var counter: UInt64 = 0

    init() {
        prefix = Hex.encode(UInt64.random(in: UInt64.min...UInt64.max)) + "-"
    }

    mutating func next() -> RequestID {
        counter &+= 1
        return .made(prefix: prefix, counter: counter)
    }
}
