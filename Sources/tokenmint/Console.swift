#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Direct writes for the few lines the executable prints itself (the `--dev` banner, a fatal setting): they must
/// appear even when the log pipeline is not set up yet, and in order.
enum Console {
    static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        var attempts = 0
        while !bytes.isEmpty, attempts < 100 {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 { bytes = bytes.dropFirst(written) } else { attempts += 1 }
        }
    }
}
