/// The three dot-separated segments of a compact JWS (RFC 7515 §7.1), found without copying.
///
/// Anything but exactly three non-empty segments (a JWE's five, a detached payload, stray dots) is not a JWS we
/// accept.
struct CompactJWS {
    let header: Range<Int>
    let payload: Range<Int>
    let signature: Range<Int>

    init?(_ token: UnsafeBufferPointer<UInt8>) {
        let dot = UInt8(ascii: ".")
        guard let first = ByteSearch.firstIndex(of: dot, in: token) else { return nil }
        guard let second = ByteSearch.firstIndex(of: dot, in: token, from: first + 1) else { return nil }
        guard ByteSearch.firstIndex(of: dot, in: token, from: second + 1) == nil else { return nil }
        header = 0..<first
        payload = (first + 1)..<second
        signature = (second + 1)..<token.count
        guard !header.isEmpty, !payload.isEmpty, !signature.isEmpty else { return nil }
    }

    init?(_ token: [UInt8]) {
        guard let parts = token.withUnsafeBufferPointer({ CompactJWS($0) }) else { return nil }
        self = parts
    }

    /// `header.payload`, the bytes the signature covers.
    var signingInput: Range<Int> { header.lowerBound..<payload.upperBound }

    /// `header.payload` of `token`.
    func signingInput(of token: [UInt8]) -> ArraySlice<UInt8> { token[signingInput] }

    /// The three segments decoded; each nil when it is not canonical unpadded base64url (``Base64URL``).
    struct Segments {
        let header: UnsafeBufferPointer<UInt8>?
        let payload: UnsafeBufferPointer<UInt8>?
        let signature: UnsafeBufferPointer<UInt8>?
    }

    /// Decodes the segments of `token` (the bytes these ranges were found in) into one temporary allocation, on the
    /// stack for a token of a few hundred bytes, and passes them to `body`: valid only inside it. The request path
    /// decodes every caller token, so it allocates nothing for it.
    func withDecodedSegments<T>(of token: UnsafeBufferPointer<UInt8>, _ body: (Segments) -> T) -> T {
        let headerCapacity = Base64URL.decodedCapacity(header.count)
        let payloadCapacity = Base64URL.decodedCapacity(payload.count)
        let capacity = headerCapacity + payloadCapacity + Base64URL.decodedCapacity(signature.count)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { scratch in
            // Initialized, as the decoder's `MutableSpan` requires: a few hundred bytes, once per token.
            scratch.initialize(repeating: 0)
            let header = Self.decode(token, header, into: scratch, at: 0)
            let payload = Self.decode(token, payload, into: scratch, at: headerCapacity)
            let signature = Self.decode(token, signature, into: scratch, at: headerCapacity + payloadCapacity)
            return body(Segments(header: header, payload: payload, signature: signature))
        }
    }

    private static func decode(
        _ token: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        into scratch: UnsafeMutableBufferPointer<UInt8>,
        at offset: Int
    ) -> UnsafeBufferPointer<UInt8>? {
        let output = UnsafeMutableBufferPointer(
            rebasing: scratch[offset..<(offset + Base64URL.decodedCapacity(range.count))]
        )
        guard let count = Base64URL.decode(UnsafeBufferPointer(rebasing: token[range]), into: output) else {
            return nil
        }
        return UnsafeBufferPointer(rebasing: output[..<(output.startIndex + count)])
    }

    /// The segments decoded into arrays, for code off the request path (the signer's check of a shared token,
    /// tests, the fuzz target); through ``withDecodedSegments(of:_:)``, so the same decoding.
    func decodedSegments(of token: [UInt8]) -> (header: [UInt8]?, payload: [UInt8]?, signature: [UInt8]?) {
        token.withUnsafeBufferPointer { token in
            withDecodedSegments(of: token) { segments in
                (segments.header.map(Array.init), segments.payload.map(Array.init), segments.signature.map(Array.init))
            }
        }
    }
}
