// TEMPORARY stub until JSONObjectReader lands.
import Foundation
public struct JWTJSONFields: Sendable, Equatable {
    public var alg: String?; public var kid: String?; public var hasCrit = false
    public var iss: String?; public var sub: String?; public var aud: [String]?
    public var exp: Double?; public var nbf: Double?; public var iat: Double?
}
public struct JSONObjectReaderError: Error, Equatable {}
public enum JSONObjectReader {
    public static func read(_ bytes: [UInt8]) throws(JSONObjectReaderError) -> JWTJSONFields {
        guard let o = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { throw JSONObjectReaderError() }
        var f = JWTJSONFields()
        f.alg = o["alg"] as? String; f.kid = o["kid"] as? String; f.hasCrit = o["crit"] != nil
        f.iss = o["iss"] as? String; f.sub = o["sub"] as? String
        if let a = o["aud"] as? String { f.aud = [a] } else { f.aud = o["aud"] as? [String] }
        f.exp = (o["exp"] as? NSNumber)?.doubleValue; f.nbf = (o["nbf"] as? NSNumber)?.doubleValue; f.iat = (o["iat"] as? NSNumber)?.doubleValue
        return f
    }
}
