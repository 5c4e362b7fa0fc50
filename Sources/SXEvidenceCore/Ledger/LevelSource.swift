/// The levels computed by verify as a proof source (roots and consistency proofs of checkpoints).
struct LevelSource: MerkleNodeSource {
    let levels: [HashLevel]
    func node(level: Int, index: Int64) throws -> [UInt8] { levels[level][Int(index)] }
}
