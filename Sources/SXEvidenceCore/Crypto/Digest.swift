internal import CSXOpenSSL

/// The digest algorithms of our formats.
public enum DigestAlgorithm: String, Sendable, CaseIterable {
    case sha256, sm3

    /// Fetched once: implicit fetching on every init costs more than hashing a small entry.
    nonisolated(unsafe) static let sha256MD: OpaquePointer = EVP_MD_fetch(nil, "SHA256", nil)!
    nonisolated(unsafe) static let sm3MD: OpaquePointer = EVP_MD_fetch(nil, "SM3", nil)!

    var md: OpaquePointer { self == .sha256 ? Self.sha256MD : Self.sm3MD }
}

/// A streaming digest over OpenSSL's EVP interface. Not thread-safe; one per thread.
public final class StreamingDigest: @unchecked Sendable {
    private let ctx: OpaquePointer
    public let algorithm: DigestAlgorithm

    public init(_ algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        ctx = EVP_MD_CTX_new()!
        reset()
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func reset() {
        precondition(EVP_DigestInit_ex2(ctx, algorithm.md, nil) == 1, "EVP_DigestInit_ex2 failed")
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

/// One-shot helpers for the Merkle tree and key IDs; each thread keeps its own context.
public enum Hashing {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { digest(.sha256, bytes) }
    public static func sm3(_ bytes: [UInt8]) -> [UInt8] { digest(.sm3, bytes) }

    public static func digest(_ alg: DigestAlgorithm, _ bytes: [UInt8]) -> [UInt8] {
        let d = StreamingDigest(alg)
        d.update(bytes)
        return d.finish()
    }
}
