import Benchmark
import TokenMint
import TokenMintServer

/// What every `POST /v1/token` pays before NIO writes the answer: the caller check, split into its parts, the whole
/// answer of the endpoint (verification, the prepared 200, metrics, audit line) and the mint that happens once per
/// window (measured so a regression there is seen too).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.cpuTotal, .wallClock, .throughput, .mallocCountTotal],
        maxDuration: .seconds(2)
    )

    let clientSecret = Secret("client-secret-0123456789abcdef-0123456789")
    let callerSecret = Secret("caller-secret-0123456789abcdef-0123456789")
    let now = UnixTime.now()
    let callerToken = CallerTokenIssuer(secret: callerSecret).issue(subject: "user-42", now: now, lifetime: 3600)
    let authorization = "Bearer " + callerToken
    let claims = Array(#"{"sub":"user-42","iat":1795426489,"exp":1795430089,"iss":"https://site.example"}"#.utf8)

    // Scaled (a thousand calls per sample) for the steady state: one call per sample measures a cold cache.
    Benchmark("CallerVerifier.verify HS256", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let settings = Settings(
            clientID: "3458764500000000000",
            clientSecret: clientSecret,
            caller: CallerSettings(hmacSecret: callerSecret)
        )
        let verifier = try await CallerVerifier.make(settings: settings)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(verifier.verify(authorization: authorization, now: now))
        }
    }

    Benchmark("JSONObjectReader.read claims") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? JSONObjectReader.read(claims))
        }
    }

    let signer = MiroTokenSigner(clientID: "3458764500000000000", secret: clientSecret)
    Benchmark("MiroTokenSigner.mint") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(signer.mint(now: now, ttl: 300))
        }
    }

    let cache = TokenCache(timing: TokenTiming(ttlSeconds: 300, minRemainingSeconds: 60))
    cache.store(signer.mint(now: now, ttl: 300))
    // The read every request makes: a lock and a copy. Scaled, since one call is a few nanoseconds.
    Benchmark("TokenCache.servable", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(cache.servable(at: now))
        }
    }

    // The whole answer of one connection's endpoint, socket aside: verification, the prepared 200 with this
    // request's ID, metrics and the JSON audit line (to /dev/null).
    Benchmark("TokenEndpoint answer POST /v1/token", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var probe = try await _TokenEndpointProbe(
            clientID: "3458764500000000000",
            clientSecret: clientSecret,
            callerSecret: callerSecret
        )
        // One answer first: the connection's prepared 200 is built once per token, not per request.
        blackHole(probe.answer(authorization: authorization))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(probe.answer(authorization: authorization))
        }
    }
}
