import Crypto
import FoundationEssentials

/// HMAC (RFC 2104) from two hash states keyed once: the inner state has absorbed `K ⊕ ipad`, the outer `K ⊕ opad`.
///
/// A MAC then costs the message's blocks plus one outer block, and no key schedule. It is used through concrete
/// `SHA256`/`SHA384`/`SHA512` states rather than swift-crypto's generic `HMAC<H>`, whose unspecialized calls and
/// `HashedAuthenticationCode` comparison cost more than the hashing here.
struct PrekeyedHMAC<H: HashFunction>: Sendable {
    private let inner: H
    private let outer: H

    init(key: SymmetricKey) {
        var block = [UInt8](repeating: 0, count: H.blockByteCount)
        key.withUnsafeBytes { key in
            if key.count > H.blockByteCount {
                var hasher = H()
                hasher.update(bufferPointer: key)
                hasher.finalize().withUnsafeBytes { digest in
                    for index in digest.indices { block[index] = digest[index] }
                }
            } else {
                for index in key.indices { block[index] = key[index] }
            }
        }
        var inner = H()
        block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
        var outer = H()
        block.map { $0 ^ 0x5c }.withUnsafeBytes { outer.update(bufferPointer: $0) }
        self.inner = inner
        self.outer = outer
    }

    /// The MAC of `message`, passed to `body` as bytes.
    func withMAC<T>(of message: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        var inner = self.inner
        inner.update(bufferPointer: message)
        var outer = self.outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize().withUnsafeBytes(body)
    }

    /// Whether `signature` is the MAC of `message`; the time taken depends on neither's contents.
    func isValid(signature: UnsafeRawBufferPointer, over message: UnsafeRawBufferPointer) -> Bool {
        withMAC(of: message) { mac in
            guard mac.count == signature.count else { return false }
            var difference: UInt8 = 0
            for index in 0..<mac.count { difference |= mac[index] ^ signature[index] }
            return difference == 0
        }
    }
}
