#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 3339 timestamps in UTC (`2026-11-23T09:41:00Z`, `2026-11-23T09:41:00.123Z`): the one place that formats
/// them, digit by digit with `gmtime_r`, so neither the JSON token answer nor a log line needs Foundation.
public enum RFC3339 {
    /// Whole seconds since the epoch, as `expiresAt` shows them.
    public static func string(_ seconds: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(20)
        append(seconds: seconds, milliseconds: nil, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `seconds` since the epoch, with three digits of `milliseconds` when given.
    public static func append(seconds: Int, milliseconds: Int?, to out: inout [UInt8]) {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            for _ in 0..<count {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        out.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        if let milliseconds {
            out.append(UInt8(ascii: "."))
            digits(milliseconds, 3)
        }
        out.append(UInt8(ascii: "Z"))
    }
}
