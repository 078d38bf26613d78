import CHiredis
import COpenSSL
import TokenMint

#if canImport(Glibc)
import Glibc
#endif

/// `rediss://`: hiredis opens the TCP connection and stays the protocol implementation (it formats every command
/// with `redisFormatCommandArgv` and parses every reply with its `redisReader`), while OpenSSL carries the bytes on
/// that same socket. No second thread, no socket pair: each call runs on the connection's queue and is bounded by
/// `poll` with the time left.
///
/// - Important: The handshake verifies the server's certificate chain and its name (``serverName``: the URL's host
///   or `REDIS_TLS_SERVER_NAME`, also sent as SNI unless it is an IP address); any failure, including a server that
///   does not speak TLS, throws ``RedisError/Kind-swift.struct/tls`` with OpenSSL's reason, never a password, and
///   nothing is ever sent in plaintext.
final class TLSTransport: RedisTransport {
    private let context: UnsafeMutablePointer<redisContext>
    private let ssl: OpaquePointer
    private let reader: UnsafeMutablePointer<redisReader>
    private let address: String
    /// How long the handshake took.
    private(set) var handshake: Duration = .zero
    /// The protocol version agreed (`TLSv1.3`).
    private(set) var version = ""
    /// Whether a client certificate is configured, for the hint when the server hangs up at once.
    private let hasClientCertificate: Bool
    private var answered = 0

    /// Opens TCP with hiredis and completes the TLS handshake before `deadline`.
    init(
        settings: RedisSettings,
        tls: TLSContext,
        deadline: ContinuousClock.Instant
    ) throws {
        let context = try Hiredis.connect(settings)
        let fd = context.pointee.fd
        guard let ssl = SSL_new(tls.context), let reader = redisReaderCreate() else {
            redisFree(context)
            throw RedisError(.tls, "cannot allocate a TLS session: \(TLSContext.lastError())")
        }
        self.context = context
        self.ssl = ssl
        self.reader = reader
        self.address = settings.address
        self.hasClientCertificate = settings.tls?.certificateFile != nil
        let started = ContinuousClock.now
        do {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            guard SSL_set_fd(ssl, fd) == 1 else { throw RedisError(.tls, "SSL_set_fd: \(TLSContext.lastError())") }
            let name = settings.tls?.serverName ?? settings.host
            if Self.isIPAddress(name) {
                guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 else {
                    throw RedisError(.tls, "cannot check the IP address \(name) in the certificate")
                }
            } else {
                guard tokenmint_ssl_set_server_name(ssl, name) == 1, SSL_set1_host(ssl, name) == 1 else {
                    throw RedisError(.tls, "cannot check the name \(name) in the certificate")
                }
            }
            // A plaintext Redis holds a ClientHello as an unfinished inline command and never answers: a handshake
            // that times out is reported as TLS, with both likely causes.
            try drive(
                deadline: deadline,
                what: "TLS handshake with \(settings.address)",
                timeout: RedisError(
                    .tls,
                    "TLS handshake with \(settings.address): no TLS answer within the connect timeout (a server "
                        + "that does not speak TLS, or one too slow to answer)"
                )
            ) { SSL_connect(ssl) }
            handshake = ContinuousClock.now - started
            version = String(cString: SSL_get_version(ssl))
        } catch {
            close()
            throw error
        }
    }

    /// - Important: In TLS 1.3 a server checks the client's certificate after the client has finished its handshake,
    ///   so one that refuses it hangs up at the first command, often before its alert can be read: a connection reset
    ///   or closed before the first answer is reported as TLS, with that hint.
    func command(_ arguments: [[UInt8]], timeoutMilliseconds: Int) throws -> RedisReply {
        do {
            let reply = try exchange(arguments, timeoutMilliseconds: timeoutMilliseconds)
            answered += 1
            return reply
        } catch let error as RedisError where error.kind == .io && answered == 0 {
            throw RedisError(
                .tls,
                "\(address) closed the connection right after the TLS handshake (\(error.detail))"
                    + (hasClientCertificate
                        ? ""
                        : "; a server that requires a client certificate does this: set REDIS_TLS_CERT_FILE and "
                            + "REDIS_TLS_KEY_FILE")
            )
        }
    }

    private func exchange(_ arguments: [[UInt8]], timeoutMilliseconds: Int) throws -> RedisReply {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        var formatted: UnsafeMutablePointer<CChar>?
        let length = Hiredis.withArgv(arguments) { count, pointers, lengths in
            redisFormatCommandArgv(&formatted, count, pointers, lengths)
        }
        guard length > 0, let formatted else { throw RedisError(.reply, "cannot format the command") }
        defer { redisFreeCommand(formatted) }
        var written = 0
        while written < Int(length) {
            let count = try drive(deadline: deadline, what: "a command") {
                SSL_write(ssl, formatted + written, Int32(Int(length) - written))
            }
            written += Int(count)
        }
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
                throw RedisError(.reply, "protocol error from \(address)")
            }
            if let raw {
                defer { freeReplyObject(raw) }
                return Hiredis.convert(raw.assumingMemoryBound(to: redisReply.self))
            }
            let count = try buffer.withUnsafeMutableBufferPointer { bytes in
                try drive(deadline: deadline, what: "a reply") {
                    SSL_read(ssl, bytes.baseAddress, Int32(bytes.count))
                }
            }
            guard redisReaderFeed(reader, buffer, Int(count)) == REDIS_OK else {
                throw RedisError(.reply, "protocol error from \(address)")
            }
        }
    }

    func close() {
        SSL_shutdown(ssl)  // one attempt, non-blocking: a close_notify if the socket takes it
        SSL_free(ssl)
        redisReaderFree(reader)
        redisFree(context)
        ERR_clear_error()
    }

    /// Repeats an OpenSSL call that may want the socket readable or writable, polling with the time left to
    /// `deadline`; returns its positive result.
    ///
    /// - Throws: `timeout`, or ``RedisError/Kind-swift.struct/timeout``, past the deadline; ``RedisError/Kind-swift.struct/io`` when
    ///   the server closed the connection; ``RedisError/Kind-swift.struct/tls`` for every TLS failure, with the
    ///   certificate's verification result when that is what failed.
    @discardableResult
    private func drive(
        deadline: ContinuousClock.Instant,
        what: String,
        timeout: RedisError? = nil,
        _ call: () -> Int32
    ) throws -> Int32 {
        let fd = context.pointee.fd
        while true {
            ERR_clear_error()
            let result = call()
            if result > 0 { return result }
            let error = SSL_get_error(ssl, result)
            var events: Int16
            switch error {
            case SSL_ERROR_WANT_READ: events = Int16(POLLIN)
            case SSL_ERROR_WANT_WRITE: events = Int16(POLLOUT)
            case SSL_ERROR_ZERO_RETURN:
                throw RedisError(.io, "the server closed the connection")
            case SSL_ERROR_SYSCALL where ERR_peek_error() == 0:
                throw RedisError(
                    .io,
                    errno == 0 ? "the server closed the connection during \(what)" : "\(what): errno \(errno)"
                )
            default:
                let verify = SSL_get_verify_result(ssl)
                if verify != Int(X509_V_OK) {
                    ERR_clear_error()
                    let reason = String(cString: X509_verify_cert_error_string(verify))
                    throw RedisError(.tls, "\(what) failed: the server's certificate does not verify: \(reason)")
                }
                throw RedisError(.tls, "\(what) failed: \(TLSContext.lastError())")
            }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else {
                throw timeout ?? RedisError(.timeout, "no answer within the command timeout (\(what))")
            }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(max(1, (left / .milliseconds(1)).rounded(.up)))
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0, errno != EINTR { throw RedisError(.io, "poll: errno \(errno)") }
        }
    }

    static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}
