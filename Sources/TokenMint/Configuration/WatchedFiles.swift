import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The files a running replica re-reads: every `X_FILE` setting, the caller key files and the CA bundles.
///
/// Each file is reduced to a SHA-256 of its bytes, so a poll compares digests and keeps no secret in memory beyond
/// the settings themselves. A file Kubernetes swaps in place (a new `..data` directory, the symlink re-pointed) reads
/// as new bytes under the same path.
public struct WatchedFiles: Sendable, Equatable {
    /// The variables naming a file to watch: the `_FILE` forms of ``Settings/fileBackedVariables``, the caller key
    /// files, the identity provider's CA bundle and the Redis TLS files.
    public static let variables: [String] =
        Settings.fileBackedVariables.map { $0 + "_FILE" } + callerKeyVariables.sorted() + callerTrustVariables.sorted()
        + redisTLSVariables.sorted()

    /// The variables whose change replaces the caller's public keys (whole, with no grace).
    public static let callerKeyVariables: Set<String> = ["CALLER_JWT_PUBLIC_KEY_FILE", "CALLER_JWT_JWKS_FILE"]

    /// The variables whose change makes the identity provider's fetches trust a new CA bundle.
    public static let callerTrustVariables: Set<String> = ["CALLER_JWT_CA_FILE"]

    /// The variables whose change opens the next Redis connection with the new files (cert-manager rotates them).
    public static let redisTLSVariables: Set<String> = [
        "REDIS_TLS_CA_FILE", "REDIS_TLS_CERT_FILE", "REDIS_TLS_KEY_FILE",
    ]

    /// Variable → digest of its file's bytes; nil when the file cannot be read right now.
    public let digests: [String: [UInt8]?]

    public init(digests: [String: [UInt8]?]) {
        self.digests = digests
    }

    /// Reads every watched file that `environment` names.
    public static func read(environment: [String: String]) -> WatchedFiles {
        var digests: [String: [UInt8]?] = [:]
        for variable in variables {
            guard let path = environment[variable], !path.isEmpty else { continue }
            let data = try? Data(contentsOf: URL(fileURLWithPath: path))
            digests[variable] = data.map { Array(SHA256.hash(data: $0)) }
        }
        return WatchedFiles(digests: digests)
    }

    /// The variables whose file differs between `self` and `other`.
    public func changed(from other: WatchedFiles) -> Set<String> {
        Set(digests.keys).union(other.digests.keys).filter { digests[$0] != other.digests[$0] }
    }
}
