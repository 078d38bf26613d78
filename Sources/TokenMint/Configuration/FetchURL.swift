import Foundation

/// The rule for URLs tokenmint fetches caller keys from (`CALLER_JWT_JWKS_URL`, a discovery issuer, a discovered
/// `jwks_uri`).
///
/// - Important: Whoever can answer this URL decides which tokens pass. So `https://` only, whose certificate and
///   host name are always verified; plain `http://` only for a loopback host, where no network lies between; no
///   user name or password, which would end up in logs.
public enum FetchURL {
    public static func isAcceptable(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty,
            components.user == nil, components.password == nil, components.fragment == nil
        else { return false }
        switch scheme {
        case "https": return true
        case "http": return isLoopback(host)
        default: return false
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
