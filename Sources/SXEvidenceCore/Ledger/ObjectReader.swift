/// What the verifier needs of an object store: where an object's bytes are, and its digests
/// recomputed. `ObjectStore` (Node/) is one; the verifier depends on this protocol, not on it.
public protocol ObjectReader: Sendable {
    /// The file holding the object with this SHA-256 (lowercase hex), whether or not it exists.
    func path(forSHA256 hex: String) -> String
    /// Size, SHA-256 and SM3 of the stored object, read again.
    func rehash(sha256 hex: String) throws -> (size: Int64, sha256: [UInt8], sm3: [UInt8])
}
