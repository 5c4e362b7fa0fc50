/// Rows of `checkpoints`: every signed checkpoint of the log, keyed by tree size.
struct CheckpointStore {
    let db: SQLiteDatabase

    static func read(_ s: SQLiteStatement) -> Ledger.StoredCheckpoint {
        Ledger.StoredCheckpoint(size: s.int(0), root: s.blob(1), note: s.text(2) ?? "", created: s.text(3) ?? "")
    }

    private func one(_ sql: String, _ binds: Int64...) throws -> Ledger.StoredCheckpoint? {
        let s = try db.statement(sql)
        for (i, v) in binds.enumerated() { s.bind(Int32(i + 1), v) }
        defer { s.reset() }
        guard try s.step() else { return nil }
        return Self.read(s)
    }

    /// The checkpoint of this size, or the latest when `size` is nil.
    func checkpoint(size: Int64?) throws -> Ledger.StoredCheckpoint? {
        if let size { return try one("SELECT size, root, note, created FROM checkpoints WHERE size = ?", size) }
        return try one("SELECT size, root, note, created FROM checkpoints ORDER BY size DESC LIMIT 1")
    }

    /// The smallest checkpoint larger than `size`.
    func first(after size: Int64) throws -> Ledger.StoredCheckpoint? {
        try one("SELECT size, root, note, created FROM checkpoints WHERE size > ? ORDER BY size LIMIT 1", size)
    }

    /// The largest checkpoint in (after, atMost].
    func last(after size: Int64, atMost limit: Int64) throws -> Ledger.StoredCheckpoint? {
        try one("SELECT size, root, note, created FROM checkpoints WHERE size > ? AND size <= ? ORDER BY size DESC LIMIT 1", size, limit)
    }

    func all() throws -> [Ledger.StoredCheckpoint] {
        let s = try db.statement("SELECT size, root, note, created FROM checkpoints ORDER BY size")
        var out: [Ledger.StoredCheckpoint] = []
        while try s.step() { out.append(Self.read(s)) }
        return out
    }

    /// Must run inside the write transaction that added the entries it covers.
    func insert(size: Int64, root: [UInt8], note: String) throws -> Ledger.StoredCheckpoint {
        let created = UTCTime.now()
        let s = try db.statement("INSERT INTO checkpoints(size, root, note, created) VALUES (?,?,?,?)")
        s.bind(1, size).bind(2, root).bind(3, note).bind(4, created)
        try s.run()
        return Ledger.StoredCheckpoint(size: size, root: root, note: note, created: created)
    }
}
