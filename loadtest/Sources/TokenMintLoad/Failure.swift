/// Why an answer did not count as a success. Errors are what a loaded server may do (answer 503, time out);
/// violations are what it must never do (serve a wrong or dying token, forget `no-store`, let a bad caller in).
public enum Failure: Hashable, Sendable, CustomStringConvertible {
    /// A good caller got this status instead of 200.
    case status(Int)
    case connectFailed
    /// The connection broke or was closed with a request in flight.
    case connectionClosed
    /// No answer within the request timeout (open loop: counted from when the request was due).
    case timeout
    case missingNoStore
    case tokenMalformed
    case tokenSignatureInvalid
    case tokenWrongIssuer
    case tokenTooShortLived
    /// A bad caller got a token.
    case badCallerAccepted
    /// A bad caller got something other than 401.
    case badCallerStatus(Int)

    public var isViolation: Bool {
        switch self {
        case .status, .connectFailed, .connectionClosed, .timeout: false
        case .missingNoStore, .tokenMalformed, .tokenSignatureInvalid, .tokenWrongIssuer, .tokenTooShortLived,
            .badCallerAccepted, .badCallerStatus:
            true
        }
    }

    /// The name in reports and JSON.
    public var description: String {
        switch self {
        case .status(let code): "status_\(code)"
        case .connectFailed: "connect_failed"
        case .connectionClosed: "connection_closed"
        case .timeout: "timeout"
        case .missingNoStore: "missing_cache_control_no_store"
        case .tokenMalformed: "token_malformed"
        case .tokenSignatureInvalid: "token_signature_invalid"
        case .tokenWrongIssuer: "token_wrong_issuer"
        case .tokenTooShortLived: "token_too_short_lived"
        case .badCallerAccepted: "bad_caller_accepted"
        case .badCallerStatus(let code): "bad_caller_status_\(code)"
        }
    }
}
