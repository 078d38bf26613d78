import Glibc

/// ns per call and heap allocations per call of `JSONObjectReader.read` and of the `JSONDecoder` candidate, on the
/// header and claims every caller token carries. Built with -O like the shipped binary (see run.sh).
typealias Counter = @convention(c) () -> UInt

// RTLD_DEFAULT (a null handle): the preloaded library, if any, is searched with the rest of the process.
let counter: Counter? = dlsym(nil, "malloc_counter_allocations")
    .map { unsafeBitCast($0, to: Counter.self) }

let inputs: [(name: String, bytes: [UInt8])] = [
    ("header HS256", Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)),
    ("header RS256+kid", Array(#"{"alg":"RS256","typ":"JWT","kid":"2024-11-rotation"}"#.utf8)),
    ("claims site", Array(#"{"sub":"user-42","iat":1795426489,"exp":1795430089,"iss":"https://site.example"}"#.utf8)),
    (
        "claims IdP",
        Array(
            #"{"iss":"https://tenant.eu.auth0.com/","sub":"auth0|5f7c8ec7c33c6c004bbafe82","aud":["https://api.site.example","https://tenant.eu.auth0.com/userinfo"],"iat":1795426489,"exp":1795512889,"azp":"Xyz","scope":"openid profile email"}"#
                .utf8
        )
    ),
]

@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// CPU time of this thread, not wall time: the machine is shared with other builds, and a wall clock would count
/// the time they hold the core.
func nanoseconds(_ body: () -> Void, iterations: Int) -> Double {
    var start = timespec()
    var end = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
    for _ in 0..<iterations { body() }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
    let elapsed = Double(end.tv_sec - start.tv_sec) * 1e9 + Double(end.tv_nsec - start.tv_nsec)
    return elapsed / Double(iterations)
}

/// The best of several rounds: the least disturbed measurement (caches and frequency still suffer from neighbours).
func measure(_ name: String, _ body: () -> Void) -> Double {
    let iterations = 100_000
    for _ in 0..<10_000 { body() }
    let best = (0..<7).map { _ in nanoseconds(body, iterations: iterations) }.min()!
    let before = counter?() ?? 0
    for _ in 0..<1000 { body() }
    let allocations = counter.map { String(Double(Int($0() - before)) / 1000) } ?? "n/a"
    let padded = name + String(repeating: " ", count: max(0, 40 - name.count))
    print(padded, "\(Int(best.rounded())) ns/call", "allocations/call \(allocations)")
    return best
}

var readerTotal = 0.0
var decoderTotal = 0.0
for input in inputs {
    precondition(try! JSONObjectReader.read(input.bytes) == (try! JSONDecoderClaimsReader.read(input.bytes)))
    readerTotal += measure("JSONObjectReader  \(input.name)") { blackHole(try? JSONObjectReader.read(input.bytes)) }
    decoderTotal += measure("JSONDecoder       \(input.name)") {
        blackHole(try? JSONDecoderClaimsReader.read(input.bytes))
    }
}
print(
    "sum over the four inputs: reader \(Int(readerTotal.rounded())) ns, JSONDecoder \(Int(decoderTotal.rounded())) ns"
)
