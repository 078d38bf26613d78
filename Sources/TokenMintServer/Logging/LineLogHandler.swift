import Logging
import TokenMint

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// swift-log handler writing one line per event: a JSON object (`LOG_FORMAT=json`, for log pipelines) or a human
/// line (`text`, the `--dev` default), through a batching ``LogWriter``.
///
/// - Important: Nothing here redacts: callers must log a token only as its fingerprint and never a secret.
public struct LineLogHandler: LogHandler {
    public enum Format: Sendable { case json, text }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let format: Format
    private let writer: LogWriter

    public init(label: String, format: Format, writer: LogWriter) {
        self.label = label
        self.format = format
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        switch format {
        case .json: writer.append(json(event, merged))
        case .text: writer.append(text(event, merged))
        }
    }

    private func json(_ event: LogEvent, _ metadata: Logger.Metadata) -> String {
        var line = #"{"ts":"\#(Self.timestamp())","level":"\#(event.level)","msg":"# + JSONText.quoted(
            event.message.description)
        line += #","logger":"# + JSONText.quoted(label)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += "," + JSONText.quoted(key) + ":" + JSONText.quoted(value.description)
        }
        return line + "}\n"
    }

    private func text(_ event: LogEvent, _ metadata: Logger.Metadata) -> String {
        var line = "\(Self.timestamp()) \(event.level) \(label): \(event.message)"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(value)"
        }
        return line + "\n"
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let base = UnixTime.rfc3339(Int(spec.tv_sec))
        let millis = Int(spec.tv_nsec / 1_000_000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return base.dropLast() + ".\(fraction)Z"
    }
}
