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
/// Every issued token gets an audit line, so this is on the hot path: lines are built as bytes, strings that need no
/// escaping are copied whole, and nothing is sorted or merged into a new dictionary.
///
/// - Important: Nothing here redacts: callers must log a token only as its fingerprint and never a secret.
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let format: Settings.LogFormat
    let writer: LogWriter

    public init(label: String, format: Settings.LogFormat, writer: LogWriter) {
        self.label = label
        self.format = format
        self.writer = writer
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line: [UInt8] = []
        line.reserveCapacity(256)
        switch format {
        case .json: json(event, into: &line)
        case .text: text(event, into: &line)
        }
        writer.append(line)
    }

    /// Event metadata wins over the handler's own for the same key.
    private func forEachMetadata(_ event: LogEvent, _ body: (String, Logger.Metadata.Value) -> Void) {
        let extra = event.metadata
        for (key, value) in metadata where extra?[key] == nil { body(key, value) }
        if let extra { for (key, value) in extra { body(key, value) } }
    }

    private func json(_ event: LogEvent, into line: inout [UInt8]) {
        line.append(contentsOf: #"{"ts":""#.utf8)
        Self.appendTimestamp(into: &line)
        line.append(contentsOf: #"","level":""#.utf8)
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(contentsOf: #"","msg":"#.utf8)
        JSONString.appendQuoted(event.message.description, to: &line)
        line.append(contentsOf: #","logger":"#.utf8)
        JSONString.appendQuoted(label, to: &line)
        forEachMetadata(event) { key, value in
            line.append(UInt8(ascii: ","))
            JSONString.appendQuoted(key, to: &line)
            line.append(UInt8(ascii: ":"))
            JSONString.appendQuoted(Self.text(of: value), to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
    }

    private func text(_ event: LogEvent, into line: inout [UInt8]) {
        Self.appendTimestamp(into: &line)
        line.append(contentsOf: " \(event.level) \(label): \(event.message)".utf8)
        forEachMetadata(event) { key, value in
            line.append(contentsOf: " \(key)=".utf8)
            // Values can come from callers (a token's sub, an Origin): one with a control character, a space, a
            // quote or any non-ASCII byte (U+00A0 and U+2028 look like spaces and breaks) is written as a JSON
            // string, so it can neither break the line nor pass for another field.
            let text = Self.text(of: value)
            if text.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: "\"") }) {
                JSONString.appendQuoted(text, to: &line)
            } else {
                line.append(contentsOf: text.utf8)
            }
        }
        line.append(UInt8(ascii: "\n"))
    }

    private static func text(of value: Logger.Metadata.Value) -> String {
        if case .string(let string) = value { return string }
        return value.description
    }

    /// RFC 3339 UTC with milliseconds (`2026-11-23T09:41:00.123Z`).
    static func appendTimestamp(into line: inout [UInt8]) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        RFC3339.append(seconds: Int(spec.tv_sec), milliseconds: Int(spec.tv_nsec / 1_000_000), to: &line)
    }
}
