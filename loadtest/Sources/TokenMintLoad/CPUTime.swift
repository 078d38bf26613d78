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

    /// The given processes and all their descendants (Node's cluster workers are children of its primary).
    static func processTree(_ roots: [Int32]) -> [Int32] {
        guard !roots.isEmpty else { return [] }
        var parents: [Int32: Int32] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let fields = statFields(pid), let parent = Int32(fields[1]) else { continue }
            parents[pid] = parent
        }
        var included = Set(roots.filter { parents[$0] != nil })
        var grew = !included.isEmpty
        var rounds = 0
        while grew, rounds < 64 {  // bounded: process trees are not deeper than this
            grew = false
            rounds += 1
            for (pid, parent) in parents where !included.contains(pid) && included.contains(parent) {
                included.insert(pid)
                grew = true
            }
        }
        return Array(included)
    }

    /// User + system time of the processes of a tree (``processTree(_:)``), in microseconds; nil if it is empty.
    static func microseconds(of tree: [Int32]) -> Double? {
        guard !tree.isEmpty else { return nil }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let ticks = tree.compactMap(statFields).reduce(0.0) { total, fields in
            // utime and stime are fields 14 and 15 of the line, 12 and 13 after "(comm)".
            total + (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        }
        return ticks / ticksPerSecond * 1e6
    }

    /// Resident set size of the processes of a tree, in bytes.
    static func residentBytes(of tree: [Int32]) -> Int? {
        let sizes = tree.compactMap(residentBytes(ofProcess:))
        return sizes.isEmpty ? nil : sizes.reduce(0, +)
    }

    /// The fields of /proc/PID/stat after "(comm)", which may itself hold spaces: state is [0], ppid [1].
    private static func statFields(_ pid: Int32) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 13 ? fields : nil
    }

    /// Resident set size of one process in bytes, from /proc.
    private static func residentBytes(ofProcess pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kib * 1024
    }
}
