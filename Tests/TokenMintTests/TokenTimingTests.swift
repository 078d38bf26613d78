import Testing

@testable import TokenMint

/// The window arithmetic: what a replica adopts from the shared store, and when.
@Suite struct TokenTimingTests {
    let timing = TokenTiming(ttlSeconds: 300, minRemainingSeconds: 60)

    func token(iat: Int, exp: Int) -> MiroToken { MiroToken(compact: "t", issuedAt: iat, expiresAt: exp) }

    @Test func aTokenThisFleetMintsIsPlausibleWithinTheSkew() {
        #expect(timing.isPlausible(token(iat: 1000, exp: 1300), at: 1000))
        #expect(timing.isPlausible(token(iat: 900, exp: 1200), at: 1000))
        // Another replica's clock up to 5 s ahead.
        #expect(timing.isPlausible(token(iat: 1005, exp: 1305), at: 1000))
        // A shorter lifetime (a replica with a smaller TTL) is fine.
        #expect(timing.isPlausible(token(iat: 1000, exp: 1100), at: 1000))
    }

    @Test func timesNoReplicaMintsAreImplausible() {
        // A week-long exp, properly signed or not: it would pin the fleet.
        #expect(!timing.isPlausible(token(iat: 1000, exp: 1000 + 7 * 86400), at: 1000))
        // Issued more than the skew ahead.
        #expect(!timing.isPlausible(token(iat: 1006, exp: 1306), at: 1000))
        // Longer-lived than the TTL, though it expires within now + TTL.
        #expect(!timing.isPlausible(token(iat: 700, exp: 1001), at: 1000))
        // Expires after now + TTL + skew (with a lifetime within the TTL only because iat is ahead).
        #expect(!timing.isPlausible(token(iat: 1006, exp: 1306), at: 1000))
        #expect(timing.isPlausible(token(iat: 1005, exp: 1305), at: 1000))
    }

    @Test func freshMeansAboveTheLatestRefreshPoint() {
        // 60 + 35 % of 240 + 1 = 145 s of life left is the threshold.
        #expect(timing.isFresh(token(iat: 1000, exp: 1300), at: 1000))
        #expect(timing.isFresh(token(iat: 1000, exp: 1300), at: 1154.9))
        #expect(!timing.isFresh(token(iat: 1000, exp: 1300), at: 1155))
    }
}
