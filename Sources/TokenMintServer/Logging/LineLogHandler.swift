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
        JSONBytes.appendQuoted(event.message.description, to: &line)
        line.append(contentsOf: #","logger":"#.utf8)
        JSONBytes.appendQuoted(label, to: &line)
        forEachMetadata(event) { key, value in
            line.append(UInt8(ascii: ","))
            JSONBytes.appendQuoted(key, to: &line)
            line.append(UInt8(ascii: ":"))
            JSONBytes.appendQuoted(Self.text(of: value), to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
    }

    private func text(_ event: LogEvent, into line: inout [UInt8]) {
        Self.appendTimestamp(into: &line)
        line.append(contentsOf: " \(event.level) \(label): \(event.message)".utf8)
        forEachMetadata(event) { key, value in
            line.append(contentsOf: " \(key)=".utf8)
            // Values can come from callers (a token's sub, an Origin): one with a control character, a space or a
            // quote is written as a JSON string, so it can neither break the line nor forge another.
            let text = Self.text(of: value)
            if text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\"") }) {
                JSONBytes.appendQuoted(text, to: &line)
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

    /// RFC 3339 UTC with milliseconds (`2026-11-23T09:41:00.123Z`), written digit by digit.
    static func appendTimestamp(into line: inout [UInt8]) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = time_t(spec.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var remaining = value
            for _ in 0..<count {
                line.append(UInt8(ascii: "0") + UInt8(remaining / divisor % 10))
                remaining %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        line.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        line.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        line.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        line.append(UInt8(ascii: "."))
        digits(Int(spec.tv_nsec / 1_000_000), 3)
        line.append(UInt8(ascii: "Z"))
    }
}

/// JSON string literals written straight into a byte buffer.
enum JSONBytes {
    static func appendQuoted(_ value: String, to line: inout [UInt8]) {
        line.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            if !bytes.contains(where: needsEscape) {
                line.append(contentsOf: bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): line.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): line.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\n"): line.append(contentsOf: #"\n"#.utf8)
                case UInt8(ascii: "\r"): line.append(contentsOf: #"\r"#.utf8)
                case UInt8(ascii: "\t"): line.append(contentsOf: #"\t"#.utf8)
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    line.append(contentsOf: #"\u00"#.utf8)
                    line.append(hex[Int(byte >> 4)])
                    line.append(hex[Int(byte & 0xF)])
                default: line.append(byte)
                }
            }
        }
        line.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }
}
