/// How mounted secrets are re-read while the replica runs.
///
/// Kubernetes updates a mounted Secret in place (it re-points the `..data` symlink) and expects the process to
/// notice: every `_FILE` setting and key file is polled, and SIGHUP re-reads them at once.
public struct ReloadSettings: Sendable, Equatable {
    /// How often the files are polled; 0 polls never (SIGHUP still reloads).
    public var intervalSeconds: Int
    /// How long tokens signed with the previous `CALLER_JWT_HS256_SECRET` still pass after a new one is loaded, so
    /// visitors who already hold a token are not turned away by the rotation.
    public var callerSecretGraceSeconds: Int

    public init(intervalSeconds: Int = 10, callerSecretGraceSeconds: Int = 3600) {
        self.intervalSeconds = intervalSeconds
        self.callerSecretGraceSeconds = callerSecretGraceSeconds
    }

    init(values: SettingsReader) throws {
        self.init(
            intervalSeconds: try values.wholeNumber("secret.reload.seconds", default: 10, in: 0...86_400),
            callerSecretGraceSeconds: try values.wholeNumber(
                "caller.secret.rotation.grace.seconds",
                default: 3600,
                in: 0...86_400
            )
        )
    }
}
