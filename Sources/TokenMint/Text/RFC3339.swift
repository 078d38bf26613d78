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
        appendDateTime(seconds: seconds, to: &out)
        appendEnd(milliseconds: milliseconds, to: &out)
    }

    /// The date and time to the second, `2026-11-23T09:41:00`: a writer of many timestamps in one second can keep
    /// it and add only ``appendEnd(milliseconds:to:)``.
    public static func appendDateTime(seconds: Int, to out: inout [UInt8]) {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        digits(Int(parts.tm_year) + 1900, 4, to: &out)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2, to: &out)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2, to: &out)
        out.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2, to: &out)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2, to: &out)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2, to: &out)
    }

    /// What follows ``appendDateTime(seconds:to:)``: `.123` when `milliseconds` is given, then `Z`.
    public static func appendEnd(milliseconds: Int?, to out: inout [UInt8]) {
        if let milliseconds {
            out.append(UInt8(ascii: "."))
            digits(milliseconds, 3, to: &out)
        }
        out.append(UInt8(ascii: "Z"))
    }

    private static func digits(_ value: Int, _ count: Int, to out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        for _ in 0..<count {
            out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
