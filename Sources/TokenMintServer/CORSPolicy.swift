import NIOHTTP1

/// CORS exactly as DESIGN.md says: allowed origins get their origin echoed on every response (so a page can read a
/// 401's `detail`), other origins get no `Access-Control-*` header at all, and credentials are never allowed.
struct CORSPolicy: Sendable {
    let allowed: Set<String>

    init(origins: [String]) { allowed = Set(origins) }

    func isAllowed(_ origin: String?) -> Bool {
        guard let origin else { return false }
        return allowed.contains(origin)
    }

    /// Headers for any response to `origin`.
    func responseHeaders(origin: String?, into headers: inout HTTPHeaders) {
        guard let origin else { return }
        headers.add(name: "Vary", value: "Origin")
        guard allowed.contains(origin) else { return }
        headers.add(name: "Access-Control-Allow-Origin", value: origin)
        headers.add(name: "Access-Control-Expose-Headers", value: "Retry-After, WWW-Authenticate")
    }

    /// Extra headers for a preflight from an allowed origin.
    func preflightHeaders(origin: String?, into headers: inout HTTPHeaders) {
        guard isAllowed(origin) else { return }
        headers.add(name: "Access-Control-Allow-Methods", value: "POST")
        headers.add(name: "Access-Control-Allow-Headers", value: "Authorization, Content-Type")
        headers.add(name: "Access-Control-Max-Age", value: "600")
    }
}
