#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// TLS to Redis (`rediss://`): whom to trust, which name to check, and the client certificate for mutual TLS.
///
/// - Important: The server's certificate and host name are always verified (there is no setting to turn that off),
///   against ``caFile`` or else the system trust store. ``certificateFile`` and ``keyFile`` come together or not at
///   all; each file must be readable at startup, or startup stops naming the variable (never the file's content).
public struct RedisTLSSettings: Sendable, Equatable {
    /// `REDIS_TLS_CA_FILE`: PEM bundle of the CAs trusted for the server's certificate, instead of the system's.
    public var caFile: String?
    /// `REDIS_TLS_SERVER_NAME`: the name sent as SNI and checked in the certificate; the URL's host by default.
    public var serverName: String?
    /// `REDIS_TLS_CERT_FILE`: the client certificate chain (PEM).
    public var certificateFile: String?
    /// `REDIS_TLS_KEY_FILE`: the client certificate's private key (PEM, not encrypted).
    public var keyFile: String?

    public init(
        caFile: String? = nil,
        serverName: String? = nil,
        certificateFile: String? = nil,
        keyFile: String? = nil
    ) {
        self.caFile = caFile
        self.serverName = serverName
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    static let keys = ["redis.tls.ca.file", "redis.tls.server.name", "redis.tls.cert.file", "redis.tls.key.file"]

    static func read(from values: SettingsReader) throws -> RedisTLSSettings {
        func file(_ key: String) throws -> String? {
            guard let path = values.string(key) else { return nil }
            guard access(path, R_OK) == 0 else {
                throw SettingsError(SettingsReader.variable(key), "names a file that cannot be read")
            }
            return path
        }
        let settings = RedisTLSSettings(
            caFile: try file("redis.tls.ca.file"),
            serverName: values.string("redis.tls.server.name"),
            certificateFile: try file("redis.tls.cert.file"),
            keyFile: try file("redis.tls.key.file")
        )
        if let name = settings.serverName,
            !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.:*".contains($0)) })
        {
            throw SettingsError("REDIS_TLS_SERVER_NAME", "must be a host name or an IP address")
        }
        switch (settings.certificateFile, settings.keyFile) {
        case (.some, nil):
            throw SettingsError("REDIS_TLS_KEY_FILE", "must be set with REDIS_TLS_CERT_FILE (mutual TLS needs both)")
        case (nil, .some):
            throw SettingsError("REDIS_TLS_CERT_FILE", "must be set with REDIS_TLS_KEY_FILE (mutual TLS needs both)")
        default:
            return settings
        }
    }
}
