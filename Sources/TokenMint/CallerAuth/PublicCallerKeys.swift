import JWTKit

import Foundation

/// Public keys of the site's user tokens (a PEM file, a JWKS file, or a JWKS fetched from the identity provider),
/// verified through jwt-kit's `JWTKeyCollection`. Immutable: a refreshed JWKS is a new value.
///
/// jwt-kit 5 runs the selected key's own algorithm whatever the token's header says, so this type also keeps, per
/// key, the one `alg` that key may be used with; ``CallerVerifier`` checks the header against it before jwt-kit sees
/// the token.
struct PublicCallerKeys: Sendable {
    static let supported: Set<String> = ["RS256", "ES256", "EdDSA"]
    /// Real key sets hold a handful of keys (the current one, the next, the previous); decoding each costs CPU,
    /// so a document with more is read only this far.
    static let maximumKeys = 100

    /// A JWKS key's `kid` as the document spells it, and its one allowed `alg`.
    struct Entry: Sendable {
        let kid: String
        let algorithm: String
    }

    let collection: JWTKeyCollection
    /// `alg` allowed for the PEM key, used for tokens without a `kid`.
    let defaultAlgorithm: String?
    /// Each JWKS key, by `kid`. The dictionary finds canonically equivalent spellings too; ``entry(kid:)`` then
    /// insists on the exact code points.
    let entries: [String: Entry]
    /// Keys in the JWKS that were skipped (unsupported type or algorithm, not for signatures), for a warning.
    let skipped: [String]

    /// The JWKS key whose `kid` is exactly `kid`, code point for code point.
    func entry(kid: String) -> Entry? {
        guard let entry = entries[kid], CodePoints.equal(kid, entry.kid) else { return nil }
        return entry
    }

    /// Why a JWKS document cannot be used at all; the caller names the setting or the URL.
    struct DocumentError: Error, CustomStringConvertible {
        let description: String
    }

    /// Loads the configured files. A file that cannot be read or holds no usable key stops startup.
    static func load(publicKeyFile: String?, jwksFile: String?) async throws -> PublicCallerKeys {
        let collection = JWTKeyCollection()
        var defaultAlgorithm: String?
        var entries: [String: Entry] = [:]
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
            do {
                (entries, skipped) = try await addJWKS(Data(text.utf8), to: collection, duplicateIsFatal: true)
            } catch let error as DocumentError {
                throw SettingsError("CALLER_JWT_JWKS_FILE", error.description)
            }
        }
        return PublicCallerKeys(
            collection: collection,
            defaultAlgorithm: defaultAlgorithm,
            entries: entries,
            skipped: skipped
        )
    }

    /// A JWKS the identity provider served: a fresh key collection holding exactly its usable keys.
    ///
    /// - Throws: ``DocumentError`` when the body is not a JWKS or holds no usable key, so that the last good set
    ///   is kept rather than replaced by nothing.
    static func fetched(_ body: [UInt8]) async throws -> PublicCallerKeys {
        let collection = JWTKeyCollection()
        let (entries, skipped) = try await addJWKS(Data(body), to: collection, duplicateIsFatal: false)
        return PublicCallerKeys(collection: collection, defaultAlgorithm: nil, entries: entries, skipped: skipped)
    }

    /// Adds each usable key of a JWKS document to `collection`.
    ///
    /// Each key is decoded on its own: a JWKS may hold keys jwt-kit cannot decode (symmetric, encryption keys);
    /// those are skipped rather than failing the whole document. A key whose `use` is not `sig`, or whose
    /// `key_ops` lack `verify`, was published for something else (encryption) and is skipped too (RFC 7517 §4.2,
    /// §4.3).
    private static func addJWKS(
        _ data: Data,
        to collection: JWTKeyCollection,
        duplicateIsFatal: Bool
    ) async throws -> (entries: [String: Entry], skipped: [String]) {
        guard let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let keys = document["keys"] as? [Any]
        else {
            throw DocumentError(description: "is not a JWKS document ({\"keys\": [...]})")
        }
        var entries: [String: Entry] = [:]
        var skipped: [String] = []
        for (position, raw) in keys.enumerated() {
            guard position < maximumKeys else {
                skipped.append("keys #\(maximumKeys) to #\(keys.count - 1) (more than \(maximumKeys) keys)")
                break
            }
            guard let object = raw as? [String: Any], JSONSerialization.isValidJSONObject(object),
                let data = try? JSONSerialization.data(withJSONObject: object),
                let jwk = try? JSONDecoder().decode(JWK.self, from: data)
            else {
                skipped.append("key #\(position) (not a key tokenmint can read)")
                continue
            }
            guard let kid = jwk.keyIdentifier?.string, !kid.isEmpty else {
                skipped.append("key #\(position) (no kid)")
                continue
            }
            let shownKID = shown(kid)
            if let use = object["use"], (use as? String) != "sig" {
                skipped.append("kid \(shownKID) (use is not sig)")
                continue
            }
            if let operations = object["key_ops"],
                !((operations as? [Any])?.contains { $0 as? String == "verify" } ?? false)
            {
                skipped.append("kid \(shownKID) (key_ops without verify)")
                continue
            }
            guard let alg = algorithm(of: jwk), supported.contains(alg) else {
                let stated = jwk.algorithm.map { ", alg \($0.rawValue) for a \(jwk.keyType.rawValue) key" } ?? ""
                skipped.append("kid \(shownKID) (not an RS256, ES256 or EdDSA key\(stated))")
                continue
            }
            // The dictionary, like jwt-kit's collection, conflates canonically equivalent kids: two such keys
            // would shadow each other, so the second is never loaded.
            guard entries[kid] == nil else {
                if duplicateIsFatal { throw DocumentError(description: "holds two keys with kid \(shownKID)") }
                skipped.append("kid \(shownKID) (a second key with this kid)")
                continue
            }
            do {
                try await collection.add(jwk: jwk)
            } catch {
                skipped.append("kid \(shownKID) (not a usable public key)")
                continue
            }
            entries[kid] = Entry(kid: kid, algorithm: alg)
        }
        if entries.isEmpty {
            throw DocumentError(description: "holds no usable RS256, ES256 or EdDSA key with a kid")
        }
        return (entries, skipped)
    }

    /// A `kid` from a document someone else controls, safe for a log line: printable ASCII, at most 64 characters.
    static func shown(_ kid: String) -> String {
        var text = ""
        for scalar in kid.unicodeScalars.prefix(64) {
            text.unicodeScalars.append(scalar.value >= 0x20 && scalar.value < 0x7F && scalar != "\"" ? scalar : "?")
        }
        return kid.unicodeScalars.count > 64 ? text + "..." : text
    }

    /// The algorithm a JWK is for: the one its key type implies, when its own `alg` (if any) says the same. A key
    /// whose `alg` contradicts its type could never verify a token; it is skipped, with a warning, rather than
    /// loaded silently.
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
