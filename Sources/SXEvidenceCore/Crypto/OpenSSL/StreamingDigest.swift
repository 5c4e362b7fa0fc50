import Synchronization
internal import CSXOpenSSL

/// A streaming digest over OpenSSL's EVP interface. Meant for one task at a time, but Sendable so
/// that a worker can take it over (the object store hashes SM3 on a second thread); the owned
/// EVP_MD_CTX is only touched under a `Mutex`, uncontended in that use.
public final class StreamingDigest: Sendable {
    /// The owned EVP_MD_CTX. `@unchecked Sendable`: an immutable box, only opened under `context`'s lock.
    private final class Context: @unchecked Sendable {
        let ctx: OpaquePointer
        init() { ctx = EVP_MD_CTX_new()! }
        deinit { EVP_MD_CTX_free(ctx) }
    }

    private let context: Mutex<Context>
    public let algorithm: DigestAlgorithm

    public init(_ algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        let c = Context()
        precondition(EVP_DigestInit_ex2(c.ctx, EVPDigestMethod.md(algorithm), nil) == 1, "EVP_DigestInit_ex2 failed")
        context = Mutex(c)
    }

    public func reset() {
        context.withLock { c in
            precondition(EVP_DigestInit_ex2(c.ctx, EVPDigestMethod.md(algorithm), nil) == 1, "EVP_DigestInit_ex2 failed")
        }
    }

    public func update(_ p: UnsafeRawBufferPointer) {
        guard let base = p.baseAddress, p.count > 0 else { return }
        context.withLock { c in precondition(EVP_DigestUpdate(c.ctx, base, p.count) == 1) }
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// Returns the digest and resets for reuse.
    public func finish() -> [UInt8] {
        let alg = algorithm
        return context.withLock { c in
            var out = [UInt8](repeating: 0, count: 32)
            var len: UInt32 = 0
            precondition(EVP_DigestFinal_ex(c.ctx, &out, &len) == 1 && len == 32)
            precondition(EVP_DigestInit_ex2(c.ctx, EVPDigestMethod.md(alg), nil) == 1, "EVP_DigestInit_ex2 failed")
            return out
        }
    }
}
