import Foundation
import Testing
import TokenMintTesting

#if canImport(Glibc)
import Glibc
#endif

/// The audit line of a Miro id token names the Miro user and team, not our own client ID (its `sub`).
@Suite struct MiroIDTokenAuditTests {
    @Test(.timeLimit(.minutes(1)))
    func theAuditLineNamesTheMiroUserAndTeam() async throws {
        var environment = TokenMintProcess.baseEnvironment
        environment["CALLER_ACCEPT_MIRO_ID_TOKEN"] = "true"
        let server = try TokenMintProcess(environment: environment)
        let port = try await server.port()
        let token = JWTText.sign(
            header: #"{"alg":"HS256","typ":"JWT"}"#,
            claims: #"{"iss":"miro","sub":"\#(TokenMintProcess.clientID)","user":"3074457350000","team":"#
                + #""3458764510000","exp":\#(Int(Date().timeIntervalSince1970) + 60)}"#,
            secret: TokenMintProcess.clientSecret
        )
        let response = try await RawHTTPClient(port: port).send(
            "POST",
            "/v1/token",
            headers: [("Authorization", "Bearer \(token)")]
        )
        #expect(response.status == 200, "\(response.body)")
        let deadline = ContinuousClock.now + .seconds(10)
        var line: Substring?
        while line == nil, ContinuousClock.now < deadline {
            line = server.stdout.split(separator: "\n").first { $0.contains("token issued") }
            if line == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let audit = try #require(line)
        #expect(audit.contains(#""sub":"3074457350000""#), "\(audit)")
        #expect(audit.contains(#""team":"3458764510000""#), "\(audit)")
        #expect(audit.contains(#""verifier":"miro-id-token""#), "\(audit)")
        #expect(!audit.contains(token))
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }
}
