/// libFuzzer's entry point: every input is tried three ways, so that one corpus drives the whole bearer-to-claims path.
///
/// 1. As a JSON header or claims set, straight into ``ClaimsOracle``: most of the search happens here, since a
///    mutated byte reaches the reader without having to survive base64url.
/// 2. As an `Authorization` header value, through ``TokenOracle``: the bearer split, the three segments, their
///    decoding, and the reader on whatever decodes.
/// 3. As the header and payload of a token built around it, through the same path: any JSON the first way explores
///    also crosses the segment code, and decoding must give back exactly the bytes that were encoded.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    ClaimsOracle.check(bytes)
    TokenOracle.check(authorization: String(decoding: bytes, as: UTF8.self))
    TokenOracle.checkRoundTrip(segment: bytes)
    return 0
}
