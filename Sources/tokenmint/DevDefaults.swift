import TokenMint

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `tokenmint --dev`: throwaway secrets for whatever is unset, so a first try needs no setup at all.
enum DevDefaults {
    struct Generated {
        var callerSecret: String?
        var names: [String] = []
    }

    static func fill(_ environment: inout [String: String]) -> Generated {
        var generated = Generated()
        func isSet(_ name: String) -> Bool {
            !(environment[name] ?? "").isEmpty || !(environment[name + "_FILE"] ?? "").isEmpty
        }
        if !isSet("MIRO_CLIENT_ID") {
            environment["MIRO_CLIENT_ID"] = "3458764500000000000"
            generated.names.append("MIRO_CLIENT_ID")
        }
        if !isSet("MIRO_CLIENT_SECRET") {
            environment["MIRO_CLIENT_SECRET"] = randomHex(bytes: 32)
            generated.names.append("MIRO_CLIENT_SECRET")
        }
        let hasVerifier =
            [
                "CALLER_JWT_HS256_SECRET", "CALLER_JWT_PUBLIC_KEY_FILE", "CALLER_JWT_JWKS_FILE", "CALLER_JWT_JWKS_URL",
            ].contains(where: isSet) || environment["CALLER_JWT_DISCOVERY"]?.lowercased() == "true"
        if !hasVerifier {
            let secret = randomHex(bytes: 32)
            environment["CALLER_JWT_HS256_SECRET"] = secret
            generated.callerSecret = secret
            generated.names.append("CALLER_JWT_HS256_SECRET")
        } else if let literal = environment["CALLER_JWT_HS256_SECRET"], !literal.isEmpty {
            generated.callerSecret = literal
        }
        return generated
    }

    static func printBanner(settings: Settings, generated: Generated, port: Int) {
        let host = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
        let url = "http://\(host):\(port)"
        var banner = "\ntokenmint --dev is serving on \(url)\n"
        if !generated.names.isEmpty {
            banner += "Throwaway values were generated for: \(generated.names.joined(separator: ", ")).\n"
            banner += "Tokens minted with a throwaway client secret are not accepted by Miro.\n"
        }
        if let callerSecret = generated.callerSecret {
            let issuer = CallerTokenIssuer(secret: Secret(callerSecret))
            let token = issuer.issue(
                subject: "dev-user",
                now: UnixTime.now(),
                lifetime: 3600,
                issuer: settings.caller.issuer,
                audience: settings.caller.audience
            )
            banner += "\nTry it (the caller token is valid for one hour):\n\n"
            banner += "  curl -i -X POST \(url)/v1/token -H 'Authorization: Bearer \(token)'\n\n"
        } else {
            banner += "\nCall POST \(url)/v1/token with 'Authorization: Bearer <a token your site issued>'.\n\n"
        }
        Console.write(banner, to: 1)
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
