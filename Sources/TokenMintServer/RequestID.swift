import TokenMint

/// `X-Request-Id`: the caller's own when it is sane, otherwise one made here.
///
/// Made IDs are a per-connection random prefix and a counter: unique enough to correlate a log line with a
/// response, and free of a random draw per request.
struct RequestIDGenerator {
    private let prefix: String
    private var counter: UInt64 = 0

    init() {
        prefix = Hex.encode(UInt64.random(in: UInt64.min...UInt64.max)) + "-"
    }

    mutating func next() -> String {
        counter &+= 1
        return prefix + String(counter)
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
