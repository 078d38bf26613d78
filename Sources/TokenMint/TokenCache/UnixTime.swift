#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time as JWTs count it: seconds since the Unix epoch.
///
/// Read from `clock_gettime(CLOCK_REALTIME)` directly: it is on the hot path of every request and needs no
/// Foundation `Date`.
public enum UnixTime {
    @Sendable public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// RFC 3339 in UTC with whole seconds (`2026-11-23T09:41:00Z`), for the JSON response's `expiresAt`.
    public static func rfc3339(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
