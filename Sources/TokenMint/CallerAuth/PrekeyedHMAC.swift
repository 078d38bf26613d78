import COpenSSL

/// HMAC (RFC 2104) from two hash states keyed once: the inner state has absorbed `K ⊕ ipad`, the outer `K ⊕ opad`.
///
/// A MAC then costs the message's blocks plus one outer block, and no key schedule. The states are OpenSSL's SHA-2
/// contexts, plain C structs: copying one per request is a `memcpy`. swift-crypto's digest types are copy-on-write
/// boxes, so each copy of a keyed state allocated, and its generic `HMAC<H>` costs more than the hashing here.
struct PrekeyedHMAC<H: SHA2Function>: Sendable {
    private let inner: H.Context
    private let outer: H.Context

    init(key: UnsafeRawBufferPointer) {
        var block = [UInt8](repeating: 0, count: H.blockByteCount)
        if key.count > H.blockByteCount {
            var hasher = H.start()
            H.update(&hasher, key)
            block.withUnsafeMutableBufferPointer { H.finish(&hasher, into: $0.baseAddress!) }
        } else {
            for index in key.indices { block[index] = key[index] }
        }
        var inner = H.start()
        block.map { $0 ^ 0x36 }.withUnsafeBytes { H.update(&inner, $0) }
        var outer = H.start()
        block.map { $0 ^ 0x5c }.withUnsafeBytes { H.update(&outer, $0) }
        self.inner = inner
        self.outer = outer
    }

    /// The MAC of `message`, passed to `body` as bytes.
    func withMAC<T>(of message: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: H.digestByteCount) { digest in
            var inner = self.inner
            H.update(&inner, message)
            H.finish(&inner, into: digest.baseAddress!)
            var outer = self.outer
            H.update(&outer, UnsafeRawBufferPointer(digest))
            H.finish(&outer, into: digest.baseAddress!)
            return body(UnsafeRawBufferPointer(digest))
        }
    }

    /// Whether `signature` is the MAC of `message`; the time taken depends on neither's contents.
    func isValid(signature: UnsafeRawBufferPointer, over message: UnsafeRawBufferPointer) -> Bool {
        withMAC(of: message) { mac in
            guard mac.count == signature.count else { return false }
            return CRYPTO_memcmp(mac.baseAddress!, signature.baseAddress!, mac.count) == 0
        }
    }
}

/// One SHA-2 function through OpenSSL's low-level context API.
protocol SHA2Function {
    associatedtype Context: Sendable
    static var blockByteCount: Int { get }
    static var digestByteCount: Int { get }
    static func start() -> Context
    static func update(_ context: inout Context, _ bytes: UnsafeRawBufferPointer)
    /// Writes ``digestByteCount`` bytes to `digest`.
    static func finish(_ context: inout Context, into digest: UnsafeMutablePointer<UInt8>)
}

enum SHA256Function: SHA2Function {
    static var blockByteCount: Int { 64 }
    static var digestByteCount: Int { 32 }
    static func start() -> SHA256_CTX {
        var context = SHA256_CTX()
        SHA256_Init(&context)
        return context
    }
    static func update(_ context: inout SHA256_CTX, _ bytes: UnsafeRawBufferPointer) {
        SHA256_Update(&context, bytes.baseAddress, bytes.count)
    }
    static func finish(_ context: inout SHA256_CTX, into digest: UnsafeMutablePointer<UInt8>) {
        SHA256_Final(digest, &context)
    }
}

enum SHA384Function: SHA2Function {
    static var blockByteCount: Int { 128 }
    static var digestByteCount: Int { 48 }
    static func start() -> SHA512_CTX {
        var context = SHA512_CTX()
        SHA384_Init(&context)
        return context
    }
    static func update(_ context: inout SHA512_CTX, _ bytes: UnsafeRawBufferPointer) {
        SHA384_Update(&context, bytes.baseAddress, bytes.count)
    }
    static func finish(_ context: inout SHA512_CTX, into digest: UnsafeMutablePointer<UInt8>) {
        SHA384_Final(digest, &context)
    }
}

enum SHA512Function: SHA2Function {
    static var blockByteCount: Int { 128 }
    static var digestByteCount: Int { 64 }
    static func start() -> SHA512_CTX {
        var context = SHA512_CTX()
        SHA512_Init(&context)
        return context
    }
    static func update(_ context: inout SHA512_CTX, _ bytes: UnsafeRawBufferPointer) {
        SHA512_Update(&context, bytes.baseAddress, bytes.count)
    }
    static func finish(_ context: inout SHA512_CTX, into digest: UnsafeMutablePointer<UInt8>) {
        SHA512_Final(digest, &context)
    }
}
