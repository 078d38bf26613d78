import Foundation

/// A name resolver that hangs: an `LD_PRELOAD` library whose `getaddrinfo` sleeps before it answers for one name.
///
/// hiredis bounds connecting and socket I/O but not name resolution, so a DNS server that does not answer holds its
/// caller for as long as glibc's resolver retries (tens of seconds). A real hanging DNS server cannot be put in front
/// of a test process without changing the machine's resolver configuration; interposing `getaddrinfo` in the child
/// process alone is the narrowest real fault: the replica, hiredis and glibc are the real ones, and only the time
/// the answer takes is made up. Built from C with the system compiler into a temporary directory, once per test.
struct SlowResolver {
    /// The name the library delays; every other name resolves as usual.
    static let name = "redis.slow-dns.test"

    let library: URL

    /// Compiles the library with `cc`, bounded in time.
    static func build() async throws -> SlowResolver {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slow-resolver-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = directory.appendingPathComponent("slow_resolver.c")
        let library = directory.appendingPathComponent("libslowresolver.so")
        try Self.source.write(to: source, atomically: true, encoding: .utf8)
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compiler.arguments = ["cc", "-shared", "-fPIC", "-O1", "-o", library.path, source.path, "-ldl"]
        try compiler.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while compiler.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if compiler.isRunning {
            compiler.terminate()
            throw Failure(description: "cc did not build the slow resolver within 60 s")
        }
        guard compiler.terminationStatus == 0, FileManager.default.fileExists(atPath: library.path) else {
            throw Failure(description: "cc could not build the slow resolver (is gcc installed?)")
        }
        return SlowResolver(library: library)
    }

    /// What a child process needs in its environment so that resolving ``name`` takes `delay`, then answers
    /// 127.0.0.1.
    func environment(delay: Duration) -> [String: String] {
        [
            "LD_PRELOAD": library.path,
            "SLOW_RESOLVER_NAME": Self.name,
            "SLOW_RESOLVER_DELAY_MS": "\(delay / .milliseconds(1))",
        ]
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private static let source = #"""
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <netdb.h>
        #include <stdlib.h>
        #include <string.h>
        #include <time.h>

        typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

        int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
            getaddrinfo_fn real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
            const char *name = getenv("SLOW_RESOLVER_NAME");
            if (node != NULL && name != NULL && strcmp(node, name) == 0) {
                const char *delay = getenv("SLOW_RESOLVER_DELAY_MS");
                long milliseconds = delay != NULL ? atol(delay) : 0;
                struct timespec pause = { milliseconds / 1000, (milliseconds % 1000) * 1000000L };
                while (nanosleep(&pause, &pause) != 0) {}
                return real("127.0.0.1", service, hints, res);
            }
            return real(node, service, hints, res);
        }
        """#
}
