import COpenSSL
import TokenMint

#if canImport(Glibc)
import Glibc
#endif

/// The OpenSSL client context of `rediss://`: TLS 1.2 or later, the server's certificate always verified against
/// `REDIS_TLS_CA_FILE` or the system trust store, and the client certificate for mutual TLS. Built once, at startup.
///
/// - Important: A file OpenSSL cannot use (not PEM, a key that does not match the certificate, an encrypted key)
///   stops startup with a ``SettingsError`` naming its variable, never its content. SIGPIPE is ignored from here on:
///   OpenSSL writes to the socket without `MSG_NOSIGNAL`, and a server that hung up must not kill the process.
final class TLSContext: @unchecked Sendable {
    /// Immutable after init; OpenSSL allows one context to make connections on several threads.
    let context: OpaquePointer

    init(settings: RedisTLSSettings) throws {
        signal(SIGPIPE, SIG_IGN)
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw SettingsError("REDIS_URL", "TLS is not available: \(Self.lastError())")
        }
        self.context = context
        guard tokenmint_ssl_ctx_require_tls12(context) == 1 else {
            throw SettingsError("REDIS_URL", "TLS 1.2 cannot be required: \(Self.lastError())")
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        tokenmint_ssl_ctx_refuse_passphrases(context)
        if let caFile = settings.caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw SettingsError("REDIS_TLS_CA_FILE", "is not a PEM bundle of certificates: \(Self.lastError())")
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw SettingsError("REDIS_URL", "the system trust store cannot be loaded: \(Self.lastError())")
        }
        if let certificateFile = settings.certificateFile, let keyFile = settings.keyFile {
            guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
                throw SettingsError("REDIS_TLS_CERT_FILE", "is not a PEM certificate chain: \(Self.lastError())")
            }
            guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
                throw SettingsError(
                    "REDIS_TLS_KEY_FILE",
                    "is not an unencrypted PEM private key: \(Self.lastError())"
                )
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw SettingsError("REDIS_TLS_KEY_FILE", "does not match the certificate of REDIS_TLS_CERT_FILE")
            }
        }
        ERR_clear_error()
    }

    deinit { SSL_CTX_free(context) }

    /// OpenSSL's reason for the last failure on this thread, and clears the queue (`certificate verify failed`,
    /// `wrong version number`, `tlsv13 alert certificate required`).
    static func lastError() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buffer, buffer.count)
                reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        return reasons.isEmpty ? "unknown TLS error" : reasons.joined(separator: "; ")
    }
}
