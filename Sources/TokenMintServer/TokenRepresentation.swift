/// Which body a token answer has: the raw JWT (`application/jwt`, the default, so a page's `getToken` can simply
/// return `(await fetch(...)).text()`) or the JSON object (`application/json`).
enum TokenRepresentation: Equatable {
    case jwt
    case json

    /// Negotiated from `Accept` as RFC 9110 section 12.5.1 reads it, not by substring: media types compared
    /// case-insensitively and exactly (`application/jsonp` is not JSON), each type's weight taken from the most
    /// specific range that matches it, `q=0` meaning "not acceptable". JSON when it weighs more than the JWT, or as
    /// much while it is named and the JWT only reached through a wildcard: axios's default
    /// `application/json, text/plain, */*` asks for JSON, `*/*` or no header gets the JWT.
    init(accept: String?) {
        guard let accept, accept != "*/*" else {
            self = .jwt
            return
        }
        var json = Weight()
        var jwt = Weight()
        for element in accept.split(separator: ",") {
            let parameters = element.split(separator: ";")
            guard let range = parameters.first.map({ $0.trimmingSpaces.lowercased() }) else { continue }
            var quality = 1.0
            for parameter in parameters.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0].trimmingSpaces.lowercased() == "q" {
                    quality = Double(pair[1].trimmingSpaces).map { min(max($0, 0), 1) } ?? 0
                }
            }
            json.consider(range: range, quality: quality, type: "application/json")
            jwt.consider(range: range, quality: quality, type: "application/jwt")
        }
        let jsonQuality = json.quality ?? 0
        let jwtQuality = jwt.quality ?? 0
        if jsonQuality > jwtQuality || (jsonQuality > 0 && jsonQuality == jwtQuality && json.named && !jwt.named) {
            self = .json
        } else {
            self = .jwt
        }
    }

    /// One media type's weight: from the most specific matching range (exact 3, `type/*` 2, `*/*` 1).
    private struct Weight {
        var quality: Double?
        var specificity = 0
        var named: Bool { specificity == 3 }

        mutating func consider(range: String, quality: Double, type: String) {
            let specificity: Int
            if range == type {
                specificity = 3
            } else if range == "application/*" {
                specificity = 2
            } else if range == "*/*" {
                specificity = 1
            } else {
                return
            }
            // The most specific range decides; among equally specific ones, the highest weight.
            if specificity > self.specificity || (specificity == self.specificity && quality > (self.quality ?? -1)) {
                self.specificity = specificity
                self.quality = quality
            }
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var result = self
        while result.first == " " || result.first == "\t" { result.removeFirst() }
        while result.last == " " || result.last == "\t" { result.removeLast() }
        return result
    }
}
