import JWTKit

import Foundation

/// Public keys of the site's user tokens (a PEM file and/or a JWKS), verified through jwt-kit's `JWTKeyCollection`.
///
/// jwt-kit 5 runs the selected key's own algorithm whatever the token's header says, so this type also keeps, per
/// key, the one `alg` that key may be used with; ``CallerVerifier`` checks the header against it before jwt-kit sees
/// the token.
struct PublicCallerKeys: Sendable {
    static let supported: Set<String> = ["RS256", "ES256", "EdDSA"]

    let collection: JWTKeyCollection
    /// `alg` allowed for the PEM key, used for tokens without a `kid`.
    let defaultAlgorithm: String?
    /// `alg` allowed for each JWKS key, by `kid`.
    let algorithmsByKID: [String: String]
    /// Keys in the JWKS that were skipped (unsupported type or algorithm), for a startup warning.
    let skipped: [String]

    var isEmpty: Bool { defaultAlgorithm == nil && algorithmsByKID.isEmpty }

    /// Loads the configured files. A file that cannot be read or holds no usable key stops startup.
    static func load(publicKeyFile: String?, jwksFile: String?) async throws -> PublicCallerKeys {
        let collection = JWTKeyCollection()
        var defaultAlgorithm: String?
        var byKID: [String: String] = [:]
        var skipped: [String] = []

        if let publicKeyFile {
            let pem = try read(publicKeyFile, variable: "CALLER_JWT_PUBLIC_KEY_FILE")
            if let key = try? Insecure.RSA.PublicKey(pem: pem) {
                await collection.add(rsa: key, digestAlgorithm: .sha256)
                defaultAlgorithm = "RS256"
            } else if let key = try? ES256PublicKey(pem: pem) {
                await collection.add(ecdsa: key)
                defaultAlgorithm = "ES256"
            } else if let key = try? EdDSA.PublicKey(pem: pem) {
                await collection.add(eddsa: key)
                defaultAlgorithm = "EdDSA"
            } else {
                throw SettingsError(
                    "CALLER_JWT_PUBLIC_KEY_FILE",
                    "holds no PEM public key tokenmint can use (RSA of 2048 bits or more, P-256, or Ed25519)"
                )
            }
        }

        if let jwksFile {
            let text = try read(jwksFile, variable: "CALLER_JWT_JWKS_FILE")
            // Each key is decoded on its own: a JWKS may hold keys jwt-kit cannot decode (symmetric, encryption
            // keys); those are skipped rather than failing the whole file.
            guard let document = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                let entries = document["keys"] as? [Any]
            else {
                throw SettingsError("CALLER_JWT_JWKS_FILE", "is not a JWKS document ({\"keys\": [...]})")
            }
            for (position, entry) in entries.enumerated() {
                guard JSONSerialization.isValidJSONObject(entry),
                    let data = try? JSONSerialization.data(withJSONObject: entry),
                    let jwk = try? JSONDecoder().decode(JWK.self, from: data)
                else {
                    skipped.append("key #\(position) (not a key tokenmint can read)")
                    continue
                }
                guard let kid = jwk.keyIdentifier?.string, !kid.isEmpty else {
                    skipped.append("key #\(position) (no kid)")
                    continue
                }
                guard let alg = algorithm(of: jwk), supported.contains(alg) else {
                    let stated = jwk.algorithm.map { ", alg \($0.rawValue) for a \(jwk.keyType.rawValue) key" } ?? ""
                    skipped.append("kid \(kid) (not an RS256, ES256 or EdDSA key\(stated))")
                    continue
                }
                guard byKID[kid] == nil else {
                    throw SettingsError("CALLER_JWT_JWKS_FILE", "holds two keys with kid \(kid)")
                }
                do {
                    try await collection.add(jwk: jwk)
                } catch {
                    skipped.append("kid \(kid) (not a usable public key)")
                    continue
                }
                byKID[kid] = alg
            }
            if byKID.isEmpty {
                throw SettingsError("CALLER_JWT_JWKS_FILE", "holds no usable RS256, ES256 or EdDSA key with a kid")
            }
        }
        return PublicCallerKeys(
            collection: collection,
            defaultAlgorithm: defaultAlgorithm,
            algorithmsByKID: byKID,
            skipped: skipped
        )
    }

    /// The algorithm a JWK is for: the one its key type implies, when its own `alg` (if any) says the same. A key
    /// whose `alg` contradicts its type could never verify a token; it is skipped, with a startup warning, rather
    /// than loaded silently.
    static func algorithm(of jwk: JWK) -> String? {
        let implied: String? =
            switch jwk.keyType {
            case .rsa: "RS256"
            case .ecdsa: jwk.curve?.rawValue == "P-256" ? "ES256" : nil
            case .octetKeyPair: jwk.curve?.rawValue == "Ed25519" ? "EdDSA" : nil
            default: nil
            }
        guard let stated = jwk.algorithm?.rawValue else { return implied }
        return stated == implied ? stated : nil
    }

    private static func read(_ path: String, variable: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SettingsError(variable, "cannot read the file it names (\(path))")
        }
    }
}

/// The claims are checked by ``ClaimsPolicy`` from the raw payload, the same way for every key; jwt-kit only
/// checks the signature.
struct UncheckedClaims: JWTPayload {
    init() {}
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
