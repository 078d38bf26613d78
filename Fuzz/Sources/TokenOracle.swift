/// The oracle for everything before the claims reader: the `Authorization` header's bearer split
/// (`CallerVerifier.bearerToken`), the three segments (`CompactJWS`) and their base64url decoding (`Base64URL`),
/// each compared with a reference written here from the RFCs; what decodes then goes through ``ClaimsOracle``.
enum TokenOracle {
    /// RFC 6750 §2.1 and RFC 7235 §2.1: the scheme `Bearer` in any ASCII case, one or more spaces (0x20 only), then
    /// the token, which cannot be empty or end in a space (an HTTP parser has already trimmed the field value).
    static func referenceBearer(_ authorization: String) -> [UInt8]? {
        let bytes = Array(authorization.utf8)
        let scheme = Array("bearer".utf8)
        guard bytes.count > scheme.count + 1, bytes[scheme.count] == 0x20 else { return nil }
        for (byte, expected) in zip(bytes, scheme) {
            let lowered = (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
            guard lowered == expected else { return nil }
        }
        let token = bytes[(scheme.count + 1)...].drop { $0 == 0x20 }
        guard let last = token.last, last != 0x20 else { return nil }
        return Array(token)
    }

    /// RFC 7515 §7.1: exactly three dot-separated segments, none empty (tokenmint takes no detached payload).
    static func referenceSegments(_ token: [UInt8]) -> [ArraySlice<UInt8>]? {
        let segments = token.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3, segments.allSatisfy({ !$0.isEmpty }) else { return nil }
        return segments
    }

    static func check(authorization: String) {
        let input = Array(authorization.utf8)
        let token = CallerVerifier.bearerToken(authorization)
        guard token == referenceBearer(authorization) else { Finding.report("bearer split differs", input: input) }
        if let token { check(token: token, input: input) }
    }

    /// A token built around `segment` (header and payload both), through the same path as a real one.
    static func checkRoundTrip(segment: [UInt8]) {
        guard !segment.isEmpty else { return }
        let encoded = ReferenceBase64URL.encode(segment)
        let token = encoded + [UInt8(ascii: ".")] + encoded + Array(".c2ln".utf8)
        guard let parts = CompactJWS(token), case let decoded = parts.decodedSegments(of: token),
            decoded.header == segment, decoded.payload == segment
        else {
            Finding.report("base64url round trip fails", input: segment)
        }
        // The claims oracle has seen these bytes already, straight from the input.
        check(token: token, input: segment, readingClaims: false)
    }

    static func check(token: [UInt8], input: [UInt8], readingClaims: Bool = true) {
        let parts = CompactJWS(token)
        guard let segments = referenceSegments(token) else {
            if parts != nil { Finding.report("CompactJWS accepted a token that is not three segments", input: input) }
            return
        }
        guard let parts else { Finding.report("CompactJWS refused three segments", input: input) }
        guard token[parts.header] == segments[0], token[parts.payload] == segments[1],
            token[parts.signature] == segments[2], parts.signingInput(of: token) == token[..<(segments[1].endIndex)]
        else { Finding.report("CompactJWS segment bounds differ", input: input) }
        let decoded = segments.map(ReferenceBase64URL.decode)
        let decodedParts = parts.decodedSegments(of: token)
        let mine = [decodedParts.header, decodedParts.payload, decodedParts.signature]
        for (index, name) in ["header", "payload", "signature"].enumerated() where mine[index] != decoded[index] {
            let what = mine[index] == nil ? "refused" : decoded[index] == nil ? "accepted" : "misread"
            Finding.report(
                "base64url \(what) the \(name) segment \(Finding.escaped(Array(segments[index])))",
                input: input
            )
        }
        guard readingClaims else { return }
        if let header = decodedParts.header { ClaimsOracle.check(header) }
        if let payload = decodedParts.payload { ClaimsOracle.check(payload) }
    }
}
