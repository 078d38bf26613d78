import Crypto
import Foundation
import JWTKit
import Logging
import Synchronization
import Testing

@testable import TokenMint

/// The store's concurrency: single flight under many waiting requests, the wait bound, stale-if-error. The fetcher
/// is in memory because these are faults of timing (a fetch that hangs, many requests at once), not of HTTPS; the
/// real HTTPS provider is in the integration tests.
@Suite struct CallerKeyStoreTests {
    final class MemoryFetcher: CallerKeyFetcher {
        let body = Mutex<[UInt8]?>(nil)
        let calls = Atomic<Int>(0)
        let delay: Duration

        init(delay: Duration = .zero) {
            self.delay = delay
        }

        func fetch(_ url: String) async throws -> [UInt8] {
            calls.add(1, ordering: .relaxed)
            try await Task.sleep(for: delay)
            guard let body = body.withLock({ $0 }) else { throw CallerKeyFetchError("down") }
            return body
        }
    }

    static func jwks(kids: [String]) -> [UInt8] {
        let entries = kids.map { kid in
            let x = TestJWT.base64URL(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
            return #"{"kty":"OKP","crv":"Ed25519","kid":"\#(kid)","x":"\#(x)"}"#
        }
        return Array((#"{"keys":["# + entries.joined(separator: ",") + "]}").utf8)
    }

    func store(_ fetcher: MemoryFetcher) -> CallerKeyStore {
        CallerKeyStore(
            origin: .jwks("https://idp.example/jwks"),
            refreshSeconds: 300,
            fetcher: fetcher,
            metrics: CallerKeyMetrics(),
            logger: Logger(label: "test")
        )
    }

    @Test func manyUnknownKIDsShareOneFetch() async throws {
        let fetcher = MemoryFetcher(delay: .milliseconds(200))
        fetcher.body.withLock { $0 = Self.jwks(kids: ["a"]) }
        let store = store(fetcher)
        #expect(store.current == nil)
        fetcher.body.withLock { $0 = Self.jwks(kids: ["a", "b"]) }
        let found = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 {
                group.addTask { await store.keysAfterRefetch(forUnknownKID: "b")?.entry(kid: "b") != nil }
            }
            return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(found == 50)
        #expect(fetcher.calls.load(ordering: .relaxed) == 1)
        // Within 30 s, another unknown kid answers from the keys at hand, without fetching.
        #expect(await store.keysAfterRefetch(forUnknownKID: "c")?.entry(kid: "c") == nil)
        #expect(fetcher.calls.load(ordering: .relaxed) == 1)
        #expect(store.health == .fresh)
    }

    @Test func aHangingFetchDoesNotHoldTheRequestLongerThanTheBound() async throws {
        let fetcher = MemoryFetcher(delay: .seconds(60))
        let store = store(fetcher)
        let clock = ContinuousClock()
        let started = clock.now
        #expect(await store.keysAfterRefetch(forUnknownKID: "x") == nil)
        let waited = clock.now - started
        #expect(waited >= CallerKeyStore.unknownKIDWait - .milliseconds(50))
        // Far below the fetch's 60 s, with room for a busy machine: the bound, not the fetch, ended the wait.
        #expect(waited < .seconds(30), "\(waited)")
    }

    @Test func aFailedRefreshKeepsTheLastGoodKeys() async throws {
        let fetcher = MemoryFetcher()
        fetcher.body.withLock { $0 = Self.jwks(kids: ["a"]) }
        let clock = Mutex<Double>(1000)
        let store = CallerKeyStore(
            origin: .jwks("https://idp.example/jwks"),
            refreshSeconds: 300,
            fetcher: fetcher,
            metrics: CallerKeyMetrics(),
            logger: Logger(label: "test"),
            now: { clock.withLock { $0 } }
        )
        #expect(await store.keysAfterRefetch(forUnknownKID: "a")?.entry(kid: "a") != nil)
        // Down, then garbage, then a JWKS with no usable key: each a failure that keeps "a".
        for body in [nil, Array("<html>".utf8), Array(#"{"keys":[{"kty":"oct","k":"AAAA","kid":"s"}]}"#.utf8)] {
            clock.withLock { $0 += 31 }
            fetcher.body.withLock { $0 = body }
            let calls = fetcher.calls.load(ordering: .relaxed)
            #expect(await store.keysAfterRefetch(forUnknownKID: "b")?.entry(kid: "a") != nil)
            #expect(fetcher.calls.load(ordering: .relaxed) == calls + 1)
            #expect(store.health == .stale)
        }
        // And the refresh loop, on its own, recovers once the provider answers again.
        fetcher.body.withLock { $0 = Self.jwks(kids: ["b"]) }
        clock.withLock { $0 += 120 }
        let run = Task { await store.run() }
        defer { run.cancel() }
        let deadline = ContinuousClock.now + .seconds(10)
        while store.current?.entry(kid: "b") == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(store.current?.entry(kid: "b") != nil)
        #expect(store.current?.entry(kid: "a") == nil)
        #expect(store.health == .fresh)
    }

    @Test func fetchedJWKSSkipsKeysNotForVerifyingAndEquivalentKIDs() async throws {
        let x = TestJWT.base64URL(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
        func key(_ kid: String, _ extra: String = "") -> String {
            #"{"kty":"OKP","crv":"Ed25519","kid":"\#(kid)","x":"\#(x)"\#(extra)}"#
        }
        let body =
            #"{"keys":["#
            + [
                key("sig", #","use":"sig","key_ops":["verify"]"#), key("enc", #","use":"enc""#),
                key("ops", #","key_ops":["sign","encrypt"]"#), key("odd-use", #","use":7"#),
                key("caf\u{E9}"), key("cafe\u{301}"),
            ].joined(separator: ",") + "]}"
        let keys = try await PublicCallerKeys.fetched(Array(body.utf8))
        #expect(keys.entries.count == 2)
        #expect(keys.entry(kid: "sig") != nil)
        #expect(keys.entry(kid: "caf\u{E9}") != nil)
        // The second spelling is skipped, and the first one's lookup insists on its own code points.
        #expect(keys.entry(kid: "cafe\u{301}") == nil)
        #expect(keys.skipped.count == 4, "\(keys.skipped)")
        #expect(keys.skipped.contains { $0.contains("use is not sig") && $0.contains("enc") })
        #expect(keys.skipped.contains { $0.contains("key_ops without verify") })
        #expect(keys.skipped.contains { $0.contains("a second key with this kid") })
        // Nothing usable at all is an error, so the last good set is kept.
        await #expect(throws: PublicCallerKeys.DocumentError.self) {
            _ = try await PublicCallerKeys.fetched(Array(#"{"keys":[\#(key("enc", #","use":"enc""#))]}"#.utf8))
        }
        await #expect(throws: PublicCallerKeys.DocumentError.self) {
            _ = try await PublicCallerKeys.fetched(Array(#"{"kid":"not a jwks"}"#.utf8))
        }
    }

    @Test func aJWKSIsReadOnlyUpToItsKeyLimit() async throws {
        let x = TestJWT.base64URL(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
        let entries = (0..<150).map { #"{"kty":"OKP","crv":"Ed25519","kid":"k\#($0)","x":"\#(x)"}"# }
        let keys = try await PublicCallerKeys.fetched(
            Array((#"{"keys":["# + entries.joined(separator: ",") + "]}").utf8)
        )
        #expect(keys.entries.count == PublicCallerKeys.maximumKeys)
        #expect(keys.entry(kid: "k99") != nil)
        #expect(keys.entry(kid: "k100") == nil)
        #expect(keys.skipped == ["keys #100 to #149 (more than 100 keys)"])
    }
}
