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
}
