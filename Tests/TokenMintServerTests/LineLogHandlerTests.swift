import Logging
import Testing
import TokenMint

@testable import TokenMintServer

#if canImport(Glibc)
import Glibc
#endif

/// Log lines stay one line each whatever callers put in the values we log (a caller token's `sub`, an `Origin`).
@Suite struct LineLogHandlerTests {
    /// Logs one event through a pipe and returns what was written.
    func line(format: Settings.LogFormat, metadata: Logger.Metadata) throws -> String {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let writer = LogWriter(descriptor: fds[1])
        let logger = Logger(label: "tokenmint") { label in
            LineLogHandler(label: label, format: format, writer: writer)
        }
        logger.info("token issued", metadata: metadata)
        writer.flush()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fds[0], &buffer, buffer.count)
        return String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
    }

    @Test(arguments: [Settings.LogFormat.text, .json])
    func aValueCannotBreakOrForgeALine(format: Settings.LogFormat) throws {
        let forged = "alice\n2026-11-23T00:00:00.000Z info tokenmint: token issued sub=admin\r\u{1B}[2J"
        let written = try line(format: format, metadata: ["sub": .string(forged), "request_id": "abc-1"])
        #expect(written.hasSuffix("\n"))
        #expect(written.filter { $0 == "\n" || $0 == "\r" }.count == 1, "\(written)")
        #expect(!written.contains("\u{1B}"))
        #expect(written.contains(#"alice\n2026"#), "the newline is escaped, not dropped: \(written)")
        if format == .text {
            #expect(written.contains("request_id=abc-1"), "plain values stay unquoted: \(written)")
        }
    }

    /// A no-break space or a line separator reads as a field boundary in a terminal or a log viewer: any non-ASCII
    /// value is quoted in text lines, so `sub=alice\u{A0}verifier=admin` cannot pass for two fields.
    @Test(arguments: ["alice\u{A0}verifier=admin", "alice\u{2028}verifier=admin", "caf\u{E9}"])
    func aNonASCIIValueIsQuotedInText(value: String) throws {
        let written = try line(format: .text, metadata: ["sub": .string(value)])
        #expect(written.contains(" sub=\"\(value)\""), "\(written)")
        #expect(!written.contains(" sub=alice\u{A0}"), "\(written)")
    }
}
