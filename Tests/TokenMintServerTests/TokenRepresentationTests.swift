import Testing

@testable import TokenMintServer

/// `Accept` negotiation for the token answer, as clients really send it.
@Suite struct TokenRepresentationTests {
    @Test(
        arguments: [
            (nil, TokenRepresentation.jwt),
            ("*/*", .jwt),
            ("application/jwt", .jwt),
            ("application/json", .json),
            ("Application/JSON", .json),
            ("application/json; charset=utf-8", .json),
            // axios's and Angular's default: JSON is named first, the JWT only through the wildcard.
            ("application/json, text/plain, */*", .json),
            ("application/json, application/jwt", .jwt),
            ("application/json;q=0", .jwt),
            ("application/json;q=0, */*", .jwt),
            ("application/jwt;q=0, application/json", .json),
            ("application/jwt;q=0.5, application/json", .json),
            ("application/json;q=0.5, application/jwt", .jwt),
            ("application/*", .jwt),
            ("application/jsonp", .jwt),
            ("text/html", .jwt),
            ("application/json;q=oops", .jwt),
            (",,;,", .jwt),
        ] as [(String?, TokenRepresentation)]
    )
    func negotiates(accept: String?, expected: TokenRepresentation) {
        #expect(TokenRepresentation(accept: accept) == expected, "Accept: \(accept ?? "(none)")")
    }
}
