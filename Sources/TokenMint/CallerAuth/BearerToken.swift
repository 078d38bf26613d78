extension CallerVerifier {
    /// RFC 6750 §2.1: `Bearer` (case-insensitive), one or more spaces, the token.
    ///
    /// In a file of its own, free of jwt-kit and swift-crypto, so that the verifier's fuzz target (`Fuzz/`) compiles
    /// exactly this code.
    static func bearerToken(_ authorization: String) -> [UInt8]? {
        let utf8 = authorization.utf8
        let scheme = "bearer ".utf8
        guard utf8.count > scheme.count, utf8.last != UInt8(ascii: " ") else { return nil }
        var index = utf8.startIndex
        for expected in scheme {
            // Only ASCII letters fold (by setting 0x20): folding every byte would read 0x00 as the space.
            let byte = utf8[index]
            let folded = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
            guard folded == expected else { return nil }
            index = utf8.index(after: index)
        }
        while index < utf8.endIndex, utf8[index] == UInt8(ascii: " ") { index = utf8.index(after: index) }
        // A header value is a native string: copy its bytes in one go, not through the UTF-8 view's iterator.
        let offset = utf8.distance(from: utf8.startIndex, to: index)
        return utf8.withContiguousStorageIfAvailable { Array($0[offset...]) } ?? Array(utf8[index...])
    }
}
