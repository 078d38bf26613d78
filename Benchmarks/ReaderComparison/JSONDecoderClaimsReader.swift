import FoundationEssentials

/// The candidate replacement measured against ``JSONObjectReader``: the same fields decoded by FoundationEssentials'
/// `JSONDecoder` into a `Decodable` struct, the way an app would write it.
enum JSONDecoderClaimsReader {
    struct Fields: Decodable {
        var alg: String?
        var kid: String?
        var hasCrit: Bool
        var iss: String?
        var sub: String?
        var aud: [String]?
        var exp: Double?
        var nbf: Double?
        var iat: Double?

        enum CodingKeys: String, CodingKey {
            case alg, kid, crit, iss, sub, aud, exp, nbf, iat
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            alg = try container.decodeIfPresent(String.self, forKey: .alg)
            kid = try container.decodeIfPresent(String.self, forKey: .kid)
            hasCrit = container.contains(.crit)
            iss = try container.decodeIfPresent(String.self, forKey: .iss)
            sub = try container.decodeIfPresent(String.self, forKey: .sub)
            if let single = try? container.decodeIfPresent(String.self, forKey: .aud) {
                aud = [single]
            } else {
                aud = try container.decodeIfPresent([String].self, forKey: .aud)
            }
            exp = try container.decodeIfPresent(Double.self, forKey: .exp)
            nbf = try container.decodeIfPresent(Double.self, forKey: .nbf)
            iat = try container.decodeIfPresent(Double.self, forKey: .iat)
        }
    }

    static let decoder = JSONDecoder()

    static func read(_ bytes: [UInt8]) throws -> JWTJSONFields {
        let fields = try decoder.decode(Fields.self, from: Data(bytes))
        return JWTJSONFields(
            alg: fields.alg,
            kid: fields.kid,
            hasCrit: fields.hasCrit,
            iss: fields.iss,
            sub: fields.sub,
            aud: fields.aud,
            exp: fields.exp,
            nbf: fields.nbf,
            iat: fields.iat
        )
    }
}
