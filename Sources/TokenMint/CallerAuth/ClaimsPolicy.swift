/// The claim rules every caller token must meet, whichever key verified it.
///
/// `exp` is required (a bearer token that never expires is refused); `nbf` is honoured; both get a small leeway for
/// clock skew between the site that issued the token and this replica.
struct ClaimsPolicy: Sendable {
    static let leewaySeconds = 5.0

    /// Required `iss`, when set.
    var issuer: String?
    /// Required member of `aud`, when set.
    var audience: String?

    func check(_ claims: JWTJSONFields, now: Double) -> CallerRejection? {
        guard let exp = claims.exp else { return .badClaims }
        if now >= exp + Self.leewaySeconds { return .expired }
        if let nbf = claims.nbf, nbf > now + Self.leewaySeconds { return .notYetValid }
        if let issuer, claims.iss != issuer { return .issuer }
        if let audience, !(claims.aud ?? []).contains(audience) { return .audience }
        return nil
    }
}
