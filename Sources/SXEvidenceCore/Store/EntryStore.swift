/// Rows of `entries` and `artifacts` (sxevidence-ledger(5), LEDGER DATABASE). `insert` is the one
/// way an entry enters any ledger: local appends, replica batches and restore all go through it.
struct EntryStore {
    let db: SQLiteDatabase

    static let columns = "idx, evidence_id, kind, time, node, case_id, officer, method, note, prev_hash, leaf_hash, body"
    // Built once: insert runs per entry, and the statement cache is keyed by the text.
    static let insertEntrySQL = "INSERT INTO entries(\(columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    static let insertArtifactSQL = "INSERT INTO artifacts(entry_idx, pos, name, size, sha256, sm3) VALUES (?,?,?,?,?,?)"

    func size() throws -> Int64 {
        let s = try db.statement("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")
        defer { s.reset() }
        _ = try s.step()
        return s.int(0)
    }

    /// Insert one entry and its artifacts, and extend `frontier` (its new full subtrees go to the
    /// tree table). Must run inside a write transaction; the caller has checked the entry.
    func insert(_ e: LedgerEntry, frontier: inout MerkleFrontier, hasher: MerkleHasher) throws {
        let ins = try db.statement(Self.insertEntrySQL)
        ins.bind(1, e.index).bind(2, e.evidenceID).bind(3, e.kind).bind(4, e.time).bind(5, e.node).bind(6, e.caseID)
            .bind(7, e.officer).bind(8, e.method).bind(9, e.note).bind(10, e.prevHash).bind(11, e.leafHash).bind(12, e.body)
        try ins.run()
        let art = try db.statement(Self.insertArtifactSQL)
        for (pos, a) in e.artifacts.enumerated() {
            art.reset()
            art.bind(1, e.index).bind(2, Int64(pos)).bind(3, a.name).bind(4, a.size).bind(5, a.sha256).bind(6, a.sm3)
            try art.run()
        }
        let tree = TreeStore(db: db)
        try frontier.append(e.leafHash, hasher: hasher) { level, index, hash in
            try tree.insert(level: level, index: index, hash: hash)
        }
    }

    static func read(_ s: SQLiteStatement) -> LedgerEntry {
        LedgerEntry(index: s.int(0), evidenceID: s.text(1) ?? "", kind: s.text(2) ?? "", time: s.text(3) ?? "",
                    node: s.text(4) ?? "", caseID: s.text(5) ?? "", officer: s.text(6) ?? "", method: s.text(7) ?? "",
                    note: s.isNull(8) ? nil : s.text(8), artifacts: [], prevHash: s.blob(9), leafHash: s.blob(10),
                    body: s.blob(11))
    }

    static func readArtifact(_ s: SQLiteStatement, from c: Int32) -> Artifact {
        Artifact(name: s.text(c) ?? "", size: s.int(c + 1), sha256: s.text(c + 2) ?? "", sm3: s.text(c + 3) ?? "")
    }

    func artifacts(of index: Int64) throws -> [Artifact] {
        let s = try db.statement("SELECT name, size, sha256, sm3 FROM artifacts WHERE entry_idx = ? ORDER BY pos")
        s.bind(1, index)
        var out: [Artifact] = []
        while try s.step() { out.append(Self.readArtifact(s, from: 0)) }
        return out
    }

    /// Artifacts of entries [from, to), in entry and position order.
    func artifacts(from: Int64, to: Int64) throws -> [Artifact] {
        let s = try db.statement("SELECT name, size, sha256, sm3 FROM artifacts WHERE entry_idx >= ? AND entry_idx < ? ORDER BY entry_idx, pos")
        s.bind(1, from).bind(2, to)
        var out: [Artifact] = []
        while try s.step() { out.append(Self.readArtifact(s, from: 0)) }
        return out
    }

    func entry(index: Int64) throws -> LedgerEntry? {
        let s = try db.statement("SELECT \(Self.columns) FROM entries WHERE idx = ?")
        s.bind(1, index)
        guard try s.step() else { return nil }
        var e = Self.read(s)
        s.reset()
        e.artifacts = try artifacts(of: e.index)
        return e
    }

    func index(evidenceID: String) throws -> Int64? {
        let s = try db.statement("SELECT idx FROM entries WHERE evidence_id = ?")
        s.bind(1, evidenceID)
        defer { s.reset() }
        guard try s.step() else { return nil }
        return s.int(0)
    }

    /// Entries in index order, optionally of one case or one kind, with their artifacts.
    func entries(caseID: String?, kind: EntryKind?) throws -> [LedgerEntry] {
        let filters = [caseID.map { _ in "case_id = ?" }, kind.map { _ in "kind = ?" }].compactMap { $0 }
        let sql = "SELECT \(Self.columns) FROM entries" + (filters.isEmpty ? "" : " WHERE " + filters.joined(separator: " AND ")) + " ORDER BY idx"
        let s = try db.statement(sql)
        var k: Int32 = 1
        for v in [caseID, kind?.rawValue].compactMap({ $0 }) { s.bind(k, v); k += 1 }
        var batch: [LedgerEntry] = []
        while try s.step() { batch.append(Self.read(s)) }
        for i in batch.indices { batch[i].artifacts = try artifacts(of: batch[i].index) }
        return batch
    }

    /// Every entry of [lo, hi) in index order with its artifacts, read in two merged passes (one
    /// query each for entries and artifacts), for verify.
    func scan(from lo: Int64, to hi: Int64, _ body: (LedgerEntry) throws -> Void) throws {
        let rows = try db.statement("SELECT \(Self.columns) FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx")
        rows.bind(1, lo).bind(2, hi)
        let arts = try db.statement("SELECT entry_idx, name, size, sha256, sm3 FROM artifacts WHERE entry_idx >= ? AND entry_idx < ? ORDER BY entry_idx, pos")
        arts.bind(1, lo).bind(2, hi)
        defer { rows.reset(); arts.reset() }
        var artPending = try arts.step()
        while try rows.step() {
            var e = Self.read(rows)
            while artPending && arts.int(0) < e.index { artPending = try arts.step() }
            while artPending && arts.int(0) == e.index {
                e.artifacts.append(Self.readArtifact(arts, from: 1))
                artPending = try arts.step()
            }
            try body(e)
        }
    }

    /// Canonical bodies of entries [from, to), in order (a batch to send).
    func bodies(from: Int64, to: Int64) throws -> [[UInt8]] {
        let q = try db.statement("SELECT body FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx")
        q.bind(1, from).bind(2, to)
        var out: [[UInt8]] = []
        out.reserveCapacity(Int(max(0, to - from)))
        while try q.step() { out.append(q.blob(0)) }
        return out
    }

    /// The leaf hash of entry `index`; a missing entry is a verification failure (the tree is incomplete).
    func leafHash(index: Int64) throws -> [UInt8] {
        let s = try db.statement("SELECT leaf_hash FROM entries WHERE idx = ?")
        s.bind(1, index)
        defer { s.reset() }
        guard try s.step() else {
            throw EvidenceError.verification(zh: "账本缺少第 \(index) 条", en: "ledger is missing entry \(index)")
        }
        return s.blob(0)
    }

    /// Whether an entry names the object with exactly this size and SM3.
    func names(sha256: String, size: Int64, sm3: String) throws -> Bool {
        let s = try db.statement("SELECT 1 FROM artifacts WHERE sha256 = ? AND size = ? AND sm3 = ? LIMIT 1")
        s.bind(1, sha256).bind(2, size).bind(3, sm3)
        defer { s.reset() }
        return try s.step()
    }
}
