/// Tree rows are keyed by level (high bits) and index (low 56 bits); level 0 lives in entries.leaf_hash.
enum TreeNodeID {
    static func make(level: Int, index: Int64) -> Int64 { Int64(level) << 56 | index }
    static func level(_ id: Int64) -> Int { Int(id >> 56) }
    static func index(_ id: Int64) -> Int64 { id & ((Int64(1) << 56) - 1) }
}
