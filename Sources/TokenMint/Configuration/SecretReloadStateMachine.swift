/// Decides when a running replica re-reads its settings, from what the watched files hold now.
///
/// ```
///   poll, files as applied or as last refused ──▶ nothing
///   poll, files differ ─────────────────────────▶ reload
///   SIGHUP ─────────────────────────────────────▶ reload (an operator asked: always)
///   reload ok ──▶ applied = files     reload failed ──▶ refused = files (not retried until they change again)
/// ```
///
/// A refused set of files is not retried on every poll, so a bad Secret is logged and counted once, not every
/// `SECRET_RELOAD_SECONDS`; the next change of any file, or a SIGHUP, tries again.
public struct SecretReloadStateMachine: Sendable {
    public enum Trigger: Sendable, Equatable {
        case poll
        case signal
    }

    public enum Action: Sendable, Equatable {
        case nothing
        /// Re-read the settings; `changedFiles` names the watched variables whose files differ from those applied.
        case reload(changedFiles: Set<String>)
    }

    private(set) var applied: WatchedFiles
    private(set) var refused: WatchedFiles?

    /// - Parameter applied: the files as the running settings were read from them.
    public init(applied: WatchedFiles) {
        self.applied = applied
    }

    public mutating func observe(_ files: WatchedFiles, trigger: Trigger) -> Action {
        if trigger == .poll, files == applied || files == refused { return .nothing }
        return .reload(changedFiles: files.changed(from: applied))
    }

    public mutating func reloaded(_ files: WatchedFiles) {
        applied = files
        refused = nil
    }

    public mutating func failed(_ files: WatchedFiles) {
        refused = files
    }
}
