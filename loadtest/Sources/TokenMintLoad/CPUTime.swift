import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time, so a report can say who was the limit: the driver (its own process) or the server (processes named by
/// PID, with all their descendants, as Node's cluster workers are).
enum CPUTime {
    /// User + system time of this process, all threads, in microseconds.
    static func ownMicroseconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) * 1e6 + Double(usage.ru_utime.tv_usec)
        let system = Double(usage.ru_stime.tv_sec) * 1e6 + Double(usage.ru_stime.tv_usec)
        return user + system
    }

    /// User + system time of the given processes and their descendants, in microseconds; nil if none is readable.
    static func processTreeMicroseconds(_ roots: [Int32]) -> Double? {
        guard !roots.isEmpty else { return nil }
        var stats: [Int32: (parent: Int32, ticks: Double)] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // Fields after "(comm)": state ppid ... utime(14) stime(15), counted from 1 over the whole line.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let parent = Int32(fields[1]), let user = Double(fields[11]),
                let system = Double(fields[12])
            else { continue }
            stats[pid] = (parent, user + system)
        }
        var included = Set(roots.filter { stats[$0] != nil })
        guard !included.isEmpty else { return nil }
        var grew = true
        var rounds = 0
        while grew, rounds < 64 {  // bounded: process trees are not deeper than this
            grew = false
            rounds += 1
            for (pid, stat) in stats where !included.contains(pid) && included.contains(stat.parent) {
                included.insert(pid)
                grew = true
            }
        }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        return included.reduce(0) { $0 + stats[$1]!.ticks } / ticksPerSecond * 1e6
    }

    /// Resident set size of a process in bytes, from /proc.
    static func residentBytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kib * 1024
    }
}
