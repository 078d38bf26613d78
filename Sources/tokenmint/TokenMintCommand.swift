import ArgumentParser
import Logging
import TokenMint
import TokenMintServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@main
struct TokenMintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenmint",
        abstract: "Mints and shares the short-lived JWT that Miro's BoardsPicker needs, behind the site's own auth.",
        discussion: """
            Configured through the environment. X_FILE reads a secret from a file (Kubernetes Secret mounts); \
            setting both X and X_FILE is an error. A bad setting stops startup with exit code 2.

            \(SettingsCatalog.text)

            Routes: POST /v1/token (Authorization: Bearer <site user token>), OPTIONS /v1/token (CORS preflight), \
            GET /healthz, GET /readyz, GET /metrics.
            """
    )

    @Flag(help: "Embedded default for a first try: throwaway secrets for whatever is unset, text logs, a curl line.")
    var dev = false

    func run() async throws {
        // hiredis (and any socket write) must never kill the process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        // SIGHUP reloads the secret files once the reload service runs; until then it must not end the process.
        signal(SIGHUP, SIG_IGN)

        var environment = ProcessInfo.processInfo.environment
        let generated = dev ? DevDefaults.fill(&environment) : DevDefaults.Generated()

        let settings: Settings
        do {
            settings = try Settings.load(environment: environment, defaultLogFormat: dev ? .text : .json)
        } catch let error as SettingsError {
            Self.fail(error)
        }

        let format = settings.logFormat
        let writer: LogWriter = format == .json ? .standardOutput : .standardError
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: format, writer: writer) }
        let logger = Logger(label: "tokenmint")
        defer { writer.flush() }
        if let (from, to) = Self.raiseOpenFileLimit() {
            logger.info("raised the open file limit to the hard limit", metadata: ["from": "\(from)", "to": "\(to)"])
        }

        let application: TokenMintApplication
        do {
            application = try await TokenMintApplication.build(
                settings: settings,
                logger: logger,
                holdLockForTesting: Self.holdLockForTesting(environment),
                environment: environment
            )
        } catch let error as SettingsError {
            writer.flush()
            Self.fail(error)
        }
        let dev = self.dev
        do {
            try await application.run(logger: logger) { port in
                if dev { DevDefaults.printBanner(settings: settings, generated: generated, port: port) }
            }
        } catch let error as HTTPServer.ListenError {
            writer.flush()
            Self.fail(SettingsError(error.variable, "\(error)"))
        }
        logger.info("stopped")
    }

    /// `TOKENMINT_TEST_HOLD_LOCK_MS`: for the process tests only (a lock holder killed before it stores the token).
    /// Not a setting: undocumented in `--help`, and ignored unless it is a whole number.
    static func holdLockForTesting(_ environment: [String: String]) -> Duration? {
        guard let raw = environment["TOKENMINT_TEST_HOLD_LOCK_MS"], let milliseconds = Int(raw), milliseconds > 0
        else { return nil }
        return .milliseconds(milliseconds)
    }

    /// Raises the soft limit on open files to the hard one, as Go's runtime does: every connection is a
    /// descriptor, and with none left SwiftNIO's accept loop spins a core (it keeps its read interest after EMFILE,
    /// so no handler can pause it). Containers commonly start with a soft limit far below the hard one.
    ///
    /// - Returns: the old and new soft limits when it changed.
    static func raiseOpenFileLimit() -> (rlim_t, rlim_t)? {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return nil }
        let old = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(resource, &limit) == 0 else { return nil }
        return (old, limit.rlim_max)
    }

    static func fail(_ error: SettingsError) -> Never {
        Console.write("tokenmint: \(error)\n", to: 2)
        Glibc.exit(2)
    }
}
