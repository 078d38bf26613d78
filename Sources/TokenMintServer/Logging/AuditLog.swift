import Logging
import TokenMint

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The audit line of every token served: `token issued` at `info`, with `request_id`, `sub`, `verifier` and the
/// token's fingerprint.
///
/// Under the JSON ``LineLogHandler`` (production) the line is written as bytes from a prefix made once (level,
/// message, logger label, the handler's own metadata) straight into the ``LogWriter``'s buffer, with no
/// `Logger.Metadata` dictionary and no allocation; its fields are those `Logger.info` would write, in a fixed order.
/// With any other handler or format it goes through `Logger.info`.
///
/// - Important: Values are JSON-escaped as ``LineLogHandler`` escapes them: `sub` comes from the caller.
///
/// A class, immutable: the endpoint calls it on every token served, and reading a value of this type out of the
/// endpoint copied its sink, a retain and a release for the writer and for the prefix, on every call.
final class AuditLog: Sendable {
    private enum Sink {
        case lines(LogWriter, prefix: [UInt8])
        case logger(Logger)
    }

    private let sink: Sink

    static let message = "token issued"

    init(logger: Logger) {
        guard let handler = logger.handler as? LineLogHandler, handler.format == .json else {
            sink = .logger(logger)
            return
        }
        guard logger.logLevel <= .info else {
            sink = .logger(logger)
            return
        }
        var prefix: [UInt8] = []
        prefix.append(contentsOf: #"","level":"info","msg":"#.utf8)
        JSONString.appendQuoted(Self.message, to: &prefix)
        prefix.append(contentsOf: #","logger":"#.utf8)
        JSONString.appendQuoted(handler.label, to: &prefix)
        let ownKeys: Set<String> = ["request_id", "sub", "verifier", "team", "token"]
        for (key, value) in handler.metadata where !ownKeys.contains(key) {
            prefix.append(UInt8(ascii: ","))
            JSONString.appendQuoted(key, to: &prefix)
            prefix.append(UInt8(ascii: ":"))
            if case .string(let string) = value {
                JSONString.appendQuoted(string, to: &prefix)
            } else {
                JSONString.appendQuoted(value.description, to: &prefix)
            }
        }
        prefix.append(contentsOf: #","request_id":""#.utf8)
        sink = .lines(handler.writer, prefix: prefix)
    }

    /// What one event loop's endpoint reuses from line to line: its own lane of the log writer, and the timestamp's
    /// date and time to the second, formatted (`gmtime_r` and 14 digits) once per second rather than once per line.
    struct Scratch {
        fileprivate let lane: LogWriter.Lane?
        fileprivate var second = Int.min
        /// `2026-11-23T09:41:00`, for ``second``.
        fileprivate var dateTime: [UInt8] = []

        /// Appends the RFC 3339 UTC timestamp with milliseconds, as ``LineLogHandler`` writes it.
        fileprivate mutating func appendTimestamp(to line: inout [UInt8]) {
            var spec = timespec()
            clock_gettime(CLOCK_REALTIME, &spec)
            let seconds = Int(spec.tv_sec)
            if seconds != second {
                dateTime.removeAll(keepingCapacity: true)
                RFC3339.appendDateTime(seconds: seconds, to: &dateTime)
                second = seconds
            }
            line.append(contentsOf: dateTime)
            RFC3339.appendEnd(milliseconds: Int(spec.tv_nsec / 1_000_000), to: &line)
        }
    }

    /// The scratch for one event loop: with a lane of its own when lines go straight to the writer.
    func makeScratch() -> Scratch {
        switch sink {
        case .lines(let writer, _): Scratch(lane: writer.makeLane())
        case .logger: Scratch(lane: nil)
        }
    }

    /// Logs that the token with `fingerprint` was served; `scratch` is reused between calls.
    func tokenIssued(
        requestID: RequestID,
        subject: String?,
        verifier: String,
        team: String? = nil,
        fingerprint: String,
        scratch: inout Scratch
    ) {
        switch sink {
        case .logger(let logger):
            var metadata: Logger.Metadata = [
                "request_id": .string(requestID.description),
                "sub": .string(subject ?? "-"),
                "verifier": .string(verifier),
                "token": .string(fingerprint),
            ]
            // A Miro id token's caller is a Miro user in a team.
            if let team { metadata["team"] = .string(team) }
            logger.info("token issued", metadata: metadata)
        case .lines(let writer, let prefix):
            // Straight into the writer's buffer. The line is bounded: its caller-supplied parts come from claims
            // the JSON reader caps at 8 KiB, at most 6 bytes escaped per byte. Nothing in here logs.
            writer.append(to: scratch.lane) { line in
                Self.append(#"{"ts":""#, to: &line)
                scratch.appendTimestamp(to: &line)
                line.append(contentsOf: prefix)
                // Sane or made here: neither needs an escape.
                requestID.append(to: &line)
                Self.append(#"","sub":"#, to: &line)
                JSONString.appendQuoted(subject ?? "-", to: &line)
                Self.append(#","verifier":"#, to: &line)
                JSONString.appendQuoted(verifier, to: &line)
                if let team {
                    Self.append(#","team":"#, to: &line)
                    JSONString.appendQuoted(team, to: &line)
                }
                Self.append(#","token":"#, to: &line)
                JSONString.appendQuoted(fingerprint, to: &line)
                Self.append("}\n", to: &line)
            }
        }
    }

    /// A literal's bytes in one copy (appending a `String`'s UTF-8 view goes byte by byte through its iterator).
    private static func append(_ literal: StaticString, to line: inout [UInt8]) {
        literal.withUTF8Buffer { line.append(contentsOf: $0) }
    }
}
