import Foundation

/// A Secret volume laid out as the kubelet lays it out, and updated as it updates it.
///
/// Each file `<root>/<name>` is a symlink to `..data/<name>`; `..data` is a symlink to a timestamped directory
/// holding the values. An update writes a new directory, points `..data_tmp` at it and renames that over `..data`
/// (one atomic step), then removes the old directory: a reader sees the old bytes or the new, never a mix.
public final class KubeletMount: @unchecked Sendable {
    public let root: URL
    private var generation = 0
    private var current: URL?

    public init(files: [String: String]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("tokenmint-secret-\(UUID())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try update(files)
        for name in files.keys {
            try FileManager.default.createSymbolicLink(atPath: path(name), withDestinationPath: "..data/\(name)")
        }
    }

    /// The path an operator puts in `X_FILE`.
    public func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    /// Swaps in new values (the names must stay the same), as the kubelet does when the Secret changes.
    public func update(_ files: [String: String]) throws {
        generation += 1
        let directory = root.appendingPathComponent("..2026_12_01_00_00_00.\(generation)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, value) in files {
            try Data(value.utf8).write(to: directory.appendingPathComponent(name))
        }
        let temporary = root.appendingPathComponent("..data_tmp").path
        try? FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.createSymbolicLink(atPath: temporary, withDestinationPath: directory.lastPathComponent)
        guard rename(temporary, root.appendingPathComponent("..data").path) == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
        if let current { try? FileManager.default.removeItem(at: current) }
        current = directory
    }

    public func remove() {
        try? FileManager.default.removeItem(at: root)
    }
}
