/// The claim rules every caller token must meet, whichever key verified it.
///
/// `exp` is required (a bearer token that never expires is refused); `nbf` is honoured; both get a small leeway for
/// clock skew between the site that issued the token and this replica. A token may not claim to live longer than
/// ``maxLifetimeSeconds`` from now, nor to be issued in the future: a stolen token with `exp: 1e300` would otherwise
/// be a password for ever. Issuer and audience are compared by code points (``CodePoints``).
struct ClaimsPolicy: Sendable {
    static let leewaySeconds = 5.0

    /// Required `iss`, when set.
    var issuer: String?
    /// Required member of `aud`, when set.
    var audience: String?
    /// Longest a token may still live, counted from now (`exp - now`).
    var maxLifetimeSeconds = Double(CallerSettings.defaultMaxLifetimeSeconds)
    /// Allowed header `typ` values, when set.
    var types: CallerTokenTypes?

    func check(_ claims: JWTJSONFields, header: JWTJSONFields, now: Double) -> CallerRejection? {
        guard let exp = claims.exp else { return .badClaims }
        if now >= exp + Self.leewaySeconds { return .expired }
        if exp > now + maxLifetimeSeconds + Self.leewaySeconds { return .tooLong }
        if let iat = claims.iat, iat > now + Self.leewaySeconds { return .issuedInFuture }
        if let nbf = claims.nbf, nbf > now + Self.leewaySeconds { return .notYetValid }
        if let types, !types.allows(header.typ) { return .type }
        if let issuer, !CodePoints.equal(claims.iss, issuer) { return .issuer }
        if let audience, !CodePoints.contains(claims.aud, audience) { return .audience }
        return nil
    }
}
