/// The stored tree as a proof source (MerkleProofBuilder).
struct StoredNodes: MerkleNodeSource {
    let tree: TreeStore
    func node(level: Int, index: Int64) throws -> [UInt8] { try tree.node(level: level, index: index) }
}
