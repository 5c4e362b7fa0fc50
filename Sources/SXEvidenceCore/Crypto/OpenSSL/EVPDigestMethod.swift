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
