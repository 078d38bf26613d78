/// The three dot-separated segments of a compact JWS (RFC 7515 §7.1), found without copying.
///
/// Anything but exactly three non-empty segments (a JWE's five, a detached payload, stray dots) is not a JWS we
/// accept.
struct CompactJWS {
    let header: Range<Int>
    let payload: Range<Int>
    let signature: Range<Int>
    private let decoded: (header: [UInt8]?, payload: [UInt8]?, signature: [UInt8]?)

    init?(_ bytes: [UInt8]) {
        guard let first = bytes.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        guard let second = bytes[(first + 1)...].firstIndex(of: UInt8(ascii: ".")) else { return nil }
        guard bytes[(second + 1)...].firstIndex(of: UInt8(ascii: ".")) == nil else { return nil }
        header = 0..<first
        payload = (first + 1)..<second
        signature = (second + 1)..<bytes.count
        guard !header.isEmpty, !payload.isEmpty, !signature.isEmpty else { return nil }
        decoded = (
            Base64URL.decode(bytes[header]), Base64URL.decode(bytes[payload]), Base64URL.decode(bytes[signature])
        )
    }

    var decodedHeader: [UInt8]? { decoded.header }
    var decodedPayload: [UInt8]? { decoded.payload }
    var decodedSignature: [UInt8]? { decoded.signature }

    /// `header.payload`, the bytes the signature covers.
    func signingInput(of bytes: [UInt8]) -> ArraySlice<UInt8> { bytes[header.lowerBound..<payload.upperBound] }
}
