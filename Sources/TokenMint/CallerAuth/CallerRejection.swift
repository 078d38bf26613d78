/// Why a caller was refused: the `detail` of the 401 and the `reason` label of `tokenmint_caller_rejected_total`.
///
/// - Important: ``detail`` never echoes the presented token or any secret; it says only what is wrong.
public struct CallerRejection: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        enum Backing: String, CaseIterable {
            case missing, notBearer, malformed, algorithm, unknownKey, signature, claims, expired, notYetValid
            case issuer, audience, lifetime, type, keysUnavailable
        }
        let backing: Backing

        public static let missing = Kind(backing: .missing)
        public static let notBearer = Kind(backing: .notBearer)
        public static let malformed = Kind(backing: .malformed)
        public static let algorithm = Kind(backing: .algorithm)
        public static let unknownKey = Kind(backing: .unknownKey)
        public static let signature = Kind(backing: .signature)
        public static let claims = Kind(backing: .claims)
        public static let expired = Kind(backing: .expired)
        public static let notYetValid = Kind(backing: .notYetValid)
        public static let issuer = Kind(backing: .issuer)
        public static let audience = Kind(backing: .audience)
        public static let lifetime = Kind(backing: .lifetime)
        public static let type = Kind(backing: .type)
        /// Not the caller's fault: the identity provider's keys have not been fetched yet. Answered with 503 and
        /// `Retry-After`, never 401, so a client retries instead of asking its user to sign in again.
        public static let keysUnavailable = Kind(backing: .keysUnavailable)

        /// Every kind, for pre-registering metrics.
        public static let all: [Kind] = Backing.allCases.map(Kind.init(backing:))

        /// The metric label: snake case, stable.
        public var description: String {
            switch backing {
            case .notBearer: "not_bearer"
            case .unknownKey: "unknown_key"
            case .notYetValid: "not_yet_valid"
            case .keysUnavailable: "keys_unavailable"
            default: backing.rawValue
            }
        }

        /// A dense index for lock-free per-kind counters.
        public var index: Int { Backing.allCases.firstIndex(of: backing)! }
    }

    public let kind: Kind
    public let detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(kind): \(detail)" }

    static let missing = CallerRejection(.missing, "missing Authorization header with a Bearer caller token")
    static let notBearer = CallerRejection(.notBearer, "Authorization is not a Bearer caller token")
    static let malformed = CallerRejection(.malformed, "caller token is not a compact JWS (header.payload.signature)")
    static let badHeader = CallerRejection(.malformed, "caller token header is not a JSON object with an alg")
    static let crit = CallerRejection(.algorithm, "caller token has a crit header this service does not understand")
    static let signature = CallerRejection(.signature, "caller token signature does not verify")
    static let badClaims = CallerRejection(.claims, "caller token claims are not a JSON object with a numeric exp")
    static let expired = CallerRejection(.expired, "caller token has expired")
    static let notYetValid = CallerRejection(.notYetValid, "caller token is not valid yet (nbf)")
    static let issuer = CallerRejection(.issuer, "caller token iss is not the required issuer")
    static let audience = CallerRejection(.audience, "caller token aud does not include the required audience")
    static let unknownKey = CallerRejection(.unknownKey, "caller token kid names no configured key")
    static let tooLong = CallerRejection(
        .lifetime,
        "caller token exp lies further ahead than CALLER_JWT_MAX_LIFETIME_SECONDS allows"
    )
    static let issuedInFuture = CallerRejection(.notYetValid, "caller token iat lies in the future")
    static let type = CallerRejection(.type, "caller token typ is missing or not one of CALLER_JWT_TYPES")
    static let keysUnavailable = CallerRejection(
        .keysUnavailable,
        "the identity provider's keys are not loaded yet; retry shortly"
    )
    static let miroIDToken = CallerRejection(.claims, "Miro id token must have iss miro and sub equal to the client ID")
}
