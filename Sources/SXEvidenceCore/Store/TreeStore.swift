/// Rows of `tree`: every full subtree of level 1 and above (level 0 is the entries' leaf hashes),
/// keyed by `TreeNodeID`.
struct TreeStore {
    let db: SQLiteDatabase

    /// Must run inside a write transaction (EntryStore.insert calls it).
    func insert(level: Int, index: Int64, hash: [UInt8]) throws {
        let s = try db.statement("INSERT INTO tree(id, hash) VALUES (?, ?)")
        s.bind(1, TreeNodeID.make(level: level, index: index)).bind(2, hash)
        try s.run()
    }

    /// The hash of a full subtree; level 0 reads the entry's leaf hash.
    func node(level: Int, index: Int64) throws -> [UInt8] {
        if level == 0 { return try EntryStore(db: db).leafHash(index: index) }
        let s = try db.statement("SELECT hash FROM tree WHERE id = ?")
        s.bind(1, TreeNodeID.make(level: level, index: index))
        defer { s.reset() }
        guard try s.step() else {
            throw EvidenceError.verification(zh: "账本缺少树节点（层 \(level)，序号 \(index)）",
                                             en: "ledger is missing tree node (level \(level), index \(index))")
        }
        return s.blob(0)
    }

    /// Every stored node in id order (level, then index), for verify.
    func scan(_ body: (_ id: Int64, _ hash: [UInt8]) throws -> Void) throws {
        let s = try db.statement("SELECT id, hash FROM tree ORDER BY id")
        defer { s.reset() }
        while try s.step() { try body(s.int(0), s.blob(1)) }
    }
}
