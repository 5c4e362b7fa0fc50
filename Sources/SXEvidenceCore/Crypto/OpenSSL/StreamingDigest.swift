internal import CSXOpenSSL

/// The EVP_MD of each algorithm, fetched once: implicit fetching on every init costs more than
/// hashing a small entry. They are never freed and OpenSSL allows their concurrent use, hence
/// `nonisolated(unsafe)` on immutable values.
enum EVPDigestMethod {
    nonisolated(unsafe) private static let sha256MD: OpaquePointer = EVP_MD_fetch(nil, "SHA256", nil)!
    nonisolated(unsafe) private static let sm3MD: OpaquePointer = EVP_MD_fetch(nil, "SM3", nil)!

    /// Borrowed, valid for the life of the process.
    static func md(_ a: DigestAlgorithm) -> OpaquePointer { a == .sha256 ? sha256MD : sm3MD }
}

/// A streaming digest over OpenSSL's EVP interface (owns an EVP_MD_CTX). Not thread-safe and not
/// Sendable: one per task or thread.
public final class StreamingDigest {
    private let ctx: OpaquePointer
    public let algorithm: DigestAlgorithm

    public init(_ algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        ctx = EVP_MD_CTX_new()!
        reset()
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func reset() {
        precondition(EVP_DigestInit_ex2(ctx, EVPDigestMethod.md(algorithm), nil) == 1, "EVP_DigestInit_ex2 failed")
    }

    public func update(_ p: UnsafeRawBufferPointer) {
        guard let base = p.baseAddress, p.count > 0 else { return }
        precondition(EVP_DigestUpdate(ctx, base, p.count) == 1)
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// Returns the digest and resets for reuse.
    public func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        precondition(EVP_DigestFinal_ex(ctx, &out, &len) == 1 && len == 32)
        reset()
        return out
    }
}
