extension CallerVerifier {
    /// RFC 6750 §2.1: `Bearer` (case-insensitive), one or more spaces, the token.
    ///
    /// In a file of its own, free of jwt-kit and swift-crypto, so that the verifier's fuzz target (`Fuzz/`) compiles
    /// exactly this code.
    static func bearerToken(_ authorization: String) -> [UInt8]? {
        var authorization = authorization
        return authorization.withUTF8 { bytes in bearerTokenStart(bytes).map { Array(bytes[$0...]) } }
    }

    /// Where the token starts in the UTF-8 of an `Authorization` value; nil when it is not a bearer token.
    static func bearerTokenStart(_ utf8: UnsafeBufferPointer<UInt8>) -> Int? {
        let scheme = "bearer ".utf8
        guard utf8.count > scheme.count, utf8.last != UInt8(ascii: " ") else { return nil }
        var index = 0
        for expected in scheme {
            // Only ASCII letters fold (by setting 0x20): folding every byte would read 0x00 as the space.
            let byte = utf8[index]
            let folded = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
            guard folded == expected else { return nil }
            index += 1
        }
        while index < utf8.count, utf8[index] == UInt8(ascii: " ") { index += 1 }
        return index
    }
}
