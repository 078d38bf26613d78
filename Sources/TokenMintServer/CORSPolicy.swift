/// CORS exactly as DESIGN.md says: allowed origins get their origin echoed on every response (so a page can read a
/// 401's `detail`), other origins get no `Access-Control-*` header at all, and credentials are never allowed.
struct CORSPolicy: Sendable {
    let allowed: Set<String>

    init(origins: [String]) { allowed = Set(origins) }

    func isAllowed(_ origin: String?) -> Bool {
        guard let origin else { return false }
        return allowed.contains(origin)
    }

    /// Header fields for any response to `origin`: none without one, `Vary: Origin` for any, and the allow and
    /// expose fields for an allowed one.
    func responseHeaders(origin: String?) -> [(String, String)] {
        guard let origin else { return [] }
        guard allowed.contains(origin) else { return [("Vary", "Origin")] }
        return [
            ("Vary", "Origin"),
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate"),
        ]
    }

    /// Extra header fields for a preflight from `origin`: none unless it is allowed.
    func preflightHeaders(origin: String?) -> [(String, String)] {
        guard isAllowed(origin) else { return [] }
        return [
            ("Access-Control-Allow-Methods", "POST"),
            ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
            ("Access-Control-Max-Age", "600"),
        ]
    }
}
