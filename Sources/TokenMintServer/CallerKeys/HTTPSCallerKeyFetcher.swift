import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import TokenMint

/// Fetches the identity provider's JWKS and discovery documents with AsyncHTTPClient.
///
/// - Important: The client runs on an event loop group of its own (one thread), never on the loops that serve
///   requests: a slow provider must not delay a single token. Every fetch is bounded by ``connectTimeout`` and
///   ``totalTimeout`` (connection, TLS, head and body together) and by ``CallerKeyFetcher/maximumBodyBytes``;
///   redirects are refused, so the configured URL is the only one trusted. The certificate chain and the host name
///   are always verified, against `CALLER_JWT_CA_FILE` when set, else the system trust store.
public final class HTTPSCallerKeyFetcher: CallerKeyFetcher {
    public static let connectTimeout: TimeAmount = .seconds(3)
    public static let totalTimeout: Duration = .seconds(5)

    /// The client in use, and those replaced by a new CA bundle whose fetches may still be finishing: each is shut
    /// down ``totalTimeout`` after its replacement, or by ``shutdown()``, whichever comes first.
    private struct Clients {
        var current: HTTPClient
        var retired: [ObjectIdentifier: HTTPClient] = [:]
    }

    private let group: MultiThreadedEventLoopGroup
    private let clients: Mutex<Clients>

    /// - Throws: ``SettingsError`` naming `CALLER_JWT_CA_FILE` when it cannot be read or holds no certificate.
    public init(caFile: String?) throws {
        let tls = try Self.tlsConfiguration(caFile: caFile)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        clients = Mutex(Clients(current: Self.makeClient(tls: tls, group: group)))
    }

    /// Reads and checks a CA bundle for ``trust(_:)``, changing nothing: a reload builds everything that can fail
    /// before it swaps anything.
    ///
    /// - Throws: ``SettingsError`` naming `CALLER_JWT_CA_FILE` when it cannot be read or holds no certificate.
    public static func tlsConfiguration(caFile: String?) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let caFile {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw SettingsError("CALLER_JWT_CA_FILE", "cannot be read as a PEM bundle of CA certificates")
            }
            guard !certificates.isEmpty else {
                throw SettingsError("CALLER_JWT_CA_FILE", "holds no PEM certificate")
            }
            tls.trustRoots = .certificates(certificates)
        }
        return tls
    }

    private static func makeClient(tls: TLSConfiguration, group: MultiThreadedEventLoopGroup) -> HTTPClient {
        HTTPClient(
            eventLoopGroup: group,
            configuration: HTTPClient.Configuration(
                tlsConfiguration: tls,
                redirectConfiguration: .disallow,
                timeout: .init(connect: Self.connectTimeout, read: .seconds(5)),
                decompression: .disabled
            )
        )
    }

    /// Fetches from now on trust `tls` (from ``tlsConfiguration(caFile:)``), on new connections: a rotated CA
    /// bundle is used without a restart. Fetches already under way finish on the client they started with.
    public func trust(_ tls: TLSConfiguration) {
        let replacement = Self.makeClient(tls: tls, group: group)
        let old = clients.withLock { clients in
            let old = clients.current
            clients.current = replacement
            clients.retired[ObjectIdentifier(old)] = old
            return old
        }
        Task {
            try? await Task.sleep(for: Self.totalTimeout)
            await self.retire(ObjectIdentifier(old))
        }
    }

    private func retire(_ id: ObjectIdentifier) async {
        guard let client = clients.withLock({ $0.retired.removeValue(forKey: id) }) else { return }
        try? await client.shutdown()
    }

    public func fetch(_ url: String) async throws -> [UInt8] {
        try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask { try await self.fetchUnbounded(url) }
            group.addTask {
                try await Task.sleep(for: Self.totalTimeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let body = first else {
                throw CallerKeyFetchError("no complete answer within \(Self.totalTimeout)")
            }
            return body
        }
    }

    private func fetchUnbounded(_ url: String) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/jwk-set+json, application/json")
        request.headers.add(name: "User-Agent", value: "tokenmint")
        let client = clients.withLock { $0.current }
        let response = try await client.execute(request, timeout: .seconds(5))
        guard response.status == .ok else {
            throw CallerKeyFetchError("HTTP status \(response.status.code)")
        }
        if let length = response.headers.first(name: "content-length").flatMap(Int.init),
            length > Self.maximumBodyBytes
        {
            throw CallerKeyFetchError("the document is over \(Self.maximumBodyBytes / 1024) KiB")
        }
        do {
            var body = try await response.body.collect(upTo: Self.maximumBodyBytes)
            return body.readBytes(length: body.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw CallerKeyFetchError("the document is over \(Self.maximumBodyBytes / 1024) KiB")
        }
    }

    /// Closes the client's connections and its thread; no fetch works afterwards.
    public func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients.retired.removeAll() }
            return [clients.current] + clients.retired.values
        }
        for client in all { try? await client.shutdown() }
        try? await group.shutdownGracefully()
    }
}
