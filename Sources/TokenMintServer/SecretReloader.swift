import CoreMetrics
import Logging
import TokenMint

/// Re-reads the settings when the watched files change (or on SIGHUP) and applies what changed, all or nothing.
///
/// - Important: A reload that fails (an unreadable file, a secret under 32 bytes, the caller secret equal to the
///   client secret, a key file that does not parse) changes nothing: the replica keeps serving with what it had,
///   the reason is logged once naming the variable (never a value), and `tokenmint_config_reloads_total` counts it
///   under `result="failed"`.
actor SecretReloader {
    /// Rebuilds and swaps what `change` touches, given the new settings; throws ``SettingsError`` to refuse them.
    typealias Apply = @Sendable (_ settings: Settings, _ change: SettingsChange) async throws -> Void

    private let environment: [String: String]
    private var settings: Settings
    private var machine: SecretReloadStateMachine
    private let apply: Apply
    private let logger: Logger
    private let succeeded: Counter
    private let failed: Counter

    init(
        environment: [String: String],
        settings: Settings,
        factory: any MetricsFactory,
        logger: Logger,
        apply: @escaping Apply
    ) {
        self.environment = environment
        self.settings = settings
        self.machine = SecretReloadStateMachine(applied: WatchedFiles.read(environment: environment))
        self.apply = apply
        self.logger = logger
        succeeded = Counter(label: "tokenmint_config_reloads_total", dimensions: [("result", "ok")], factory: factory)
        failed = Counter(label: "tokenmint_config_reloads_total", dimensions: [("result", "failed")], factory: factory)
        succeeded.increment(by: 0)
        failed.increment(by: 0)
    }

    /// Reloads if `trigger` and the files call for it.
    func check(_ trigger: SecretReloadStateMachine.Trigger) async {
        let files = WatchedFiles.read(environment: environment)
        guard case .reload(let changedFiles) = machine.observe(files, trigger: trigger) else { return }
        do {
            let new = try Settings.load(environment: environment, defaultLogFormat: settings.logFormat)
            let change = SettingsChange(from: settings, to: new, changedFiles: changedFiles)
            if !change.isEmpty { try await apply(new, change) }
            settings = new
            machine.reloaded(files)
            succeeded.increment()
            if change.isEmpty {
                logger.info("settings re-read; nothing changed", metadata: ["trigger": "\(trigger)"])
            } else {
                logger.notice(
                    "settings reloaded",
                    metadata: [
                        "trigger": "\(trigger)", "changed": "\(change.names.joined(separator: ","))",
                        "client_secret": "\(new.clientSecret.fingerprint)",
                    ]
                )
            }
        } catch {
            machine.failed(files)
            failed.increment()
            let (variable, reason) =
                (error as? SettingsError).map { ($0.variable, $0.problem) } ?? ("-", "\(error)")
            logger.error(
                "settings reload failed; keeping the settings in force",
                metadata: ["variable": "\(variable)", "reason": "\(reason)", "trigger": "\(trigger)"]
            )
        }
    }
}
