import Foundation

/// The node's append-only ledger: entries, the RFC 6962 tree over their leaf hashes, and every
/// signed checkpoint, in one SQLite database (WAL, synchronous=FULL). Triggers refuse UPDATE and
/// DELETE; appends run in BEGIN IMMEDIATE transactions, so concurrent writers queue in order.
public final class Ledger {
    static let schemaVersion = 4
    let db: SQLiteDatabase
    public let nodeID: String
    public let origin: String
    let hasher = MerkleHasher()

    public init(path: String, nodeID: String, origin: String, create: Bool = false) throws {
        if !create && !POSIXFile.exists(path) {
            throw EvidenceError(.notFound, zh: "找不到账本数据库：\(path)", en: "ledger database not found: \(path)")
        }
        db = try SQLiteDatabase(path: path, create: create)
        self.nodeID = nodeID
        self.origin = origin
        do {
            try db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        } catch let e as EvidenceError {
            // Say why when the home cannot be written at all (a read-only mount, say).
            let dir = POSIXFile.parent(path)
            if access(dir, W_OK) != 0 { throw POSIXFile.ioError(zh: "节点目录不可写", en: "node home is not writable", dir) }
            throw e
        }
        let version = try db.statement("PRAGMA user_version")
        _ = try version.step()
        let v = version.int(0)
        if v == 0 && create {
            try db.writeTransaction { try db.exec(LedgerSchema.sql + LedgerSchema.v2 + LedgerSchema.v3 + LedgerSchema.v4) }
        } else if v >= 1 && v < Self.schemaVersion {
            // Numbered steps, each from the previous schema: 2 adds the time-stamp table, 3 the
            // consortium tables, 4 who delivered each received object; nothing existing changes.
            let steps = [LedgerSchema.v2, LedgerSchema.v3, LedgerSchema.v4]
            try db.writeTransaction { try db.exec(steps[Int(v - 1)...].joined()) }
        } else if v != Self.schemaVersion {
            throw EvidenceError(.ioError, zh: "账本数据库版本不符（\(v)）：\(path)", en: "unexpected ledger schema version \(v): \(path)")
        }
    }

    // MARK: reading

    public func size() throws -> Int64 {
        let s = try db.statement("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")
        _ = try s.step()
        return s.int(0)
    }

    static let entryColumns = "idx, evidence_id, kind, time, node, case_id, officer, method, note, prev_hash, leaf_hash, body"

    static func readEntry(_ s: SQLiteStatement) -> LedgerEntry {
        LedgerEntry(index: s.int(0), evidenceID: s.text(1) ?? "", kind: s.text(2) ?? "", time: s.text(3) ?? "",
                    node: s.text(4) ?? "", caseID: s.text(5) ?? "", officer: s.text(6) ?? "", method: s.text(7) ?? "",
                    note: s.isNull(8) ? nil : s.text(8), artifacts: [], prevHash: s.blob(9), leafHash: s.blob(10),
                    body: s.blob(11))
    }

    func artifacts(of index: Int64) throws -> [Artifact] {
        let s = try db.statement("SELECT name, size, sha256, sm3 FROM artifacts WHERE entry_idx = ? ORDER BY pos")
        s.bind(1, index)
        var out: [Artifact] = []
        while try s.step() {
            out.append(Artifact(name: s.text(0) ?? "", size: s.int(1), sha256: s.text(2) ?? "", sm3: s.text(3) ?? ""))
        }
        return out
    }

    public func entry(index: Int64) throws -> LedgerEntry? {
        let s = try db.statement("SELECT \(Self.entryColumns) FROM entries WHERE idx = ?")
        s.bind(1, index)
        guard try s.step() else { return nil }
        var e = Self.readEntry(s)
        e.artifacts = try artifacts(of: e.index)
        return e
    }

    public func entry(evidenceID: String) throws -> LedgerEntry? {
        let s = try db.statement("SELECT idx FROM entries WHERE evidence_id = ?")
        s.bind(1, evidenceID)
        guard try s.step() else { return nil }
        return try entry(index: s.int(0))
    }

    /// Entries in index order, optionally of one case.
    /// Entries in index order, optionally of one case or one kind.
    public func entries(caseID: String? = nil, kind: String? = nil, _ body: (LedgerEntry) throws -> Void) throws {
        let filters = [caseID.map { _ in "case_id = ?" }, kind.map { _ in "kind = ?" }].compactMap { $0 }
        let sql = "SELECT \(Self.entryColumns) FROM entries" + (filters.isEmpty ? "" : " WHERE " + filters.joined(separator: " AND ")) + " ORDER BY idx"
        let s = try db.statement(sql)
        var k: Int32 = 1
        for v in [caseID, kind].compactMap({ $0 }) { s.bind(k, v); k += 1 }
        var batch: [LedgerEntry] = []
        while try s.step() { batch.append(Self.readEntry(s)) }
        for var e in batch {
            e.artifacts = try artifacts(of: e.index)
            try body(e)
        }
    }

    public struct StoredCheckpoint: Sendable {
        public var size: Int64
        public var root: [UInt8]
        public var note: String
        public var created: String
    }

    public func checkpoint(size: Int64? = nil) throws -> StoredCheckpoint? {
        let s: SQLiteStatement
        if let size {
            s = try db.statement("SELECT size, root, note, created FROM checkpoints WHERE size = ?")
            s.bind(1, size)
        } else {
            s = try db.statement("SELECT size, root, note, created FROM checkpoints ORDER BY size DESC LIMIT 1")
        }
        guard try s.step() else { return nil }
        return StoredCheckpoint(size: s.int(0), root: s.blob(1), note: s.text(2) ?? "", created: s.text(3) ?? "")
    }

    public func allCheckpoints() throws -> [StoredCheckpoint] {
        let s = try db.statement("SELECT size, root, note, created FROM checkpoints ORDER BY size")
        var out: [StoredCheckpoint] = []
        while try s.step() { out.append(StoredCheckpoint(size: s.int(0), root: s.blob(1), note: s.text(2) ?? "", created: s.text(3) ?? "")) }
        return out
    }

    // MARK: proofs

    var proofs: MerkleProofBuilder<StoredNodes> { MerkleProofBuilder(source: StoredNodes(ledger: self)) }

    public func root(size: Int64) throws -> [UInt8] { try db.readTransaction { try proofs.root(size: size) } }

    public func inclusionProof(index: Int64, size: Int64) throws -> [[UInt8]] {
        try db.readTransaction { try proofs.inclusionProof(leaf: index, size: size) }
    }

    public func consistencyProof(from m: Int64, to n: Int64) throws -> [[UInt8]] {
        try db.readTransaction { try proofs.consistencyProof(from: m, to: n) }
    }

    // MARK: appending

    /// Append entries and sign a checkpoint covering them, in one durable transaction.
    /// `sign` turns the new checkpoint into a signed note; it runs inside the transaction so that
    /// no other writer can sign a different tree of the same size in between.
    @discardableResult
    public func append(_ drafts: [EntryDraft], sign: (Checkpoint) throws -> SignedNote,
                       alsoInTransaction: (([LedgerEntry], StoredCheckpoint) throws -> Void)? = nil) throws -> ([LedgerEntry], StoredCheckpoint) {
        try db.writeTransaction {
            let start = try size()
            var frontier = try loadFrontier(size: start)
            var prev = start == 0 ? LedgerEntry.zeroHash : try leafHash(index: start - 1)
            let insEntry = try db.statement("INSERT INTO entries(\(Self.entryColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
            let insArtifact = try db.statement("INSERT INTO artifacts(entry_idx, pos, name, size, sha256, sm3) VALUES (?,?,?,?,?,?)")
            let insNode = try db.statement("INSERT INTO tree(id, hash) VALUES (?, ?)")
            var out: [LedgerEntry] = []
            out.reserveCapacity(drafts.count)
            for (i, d) in drafts.enumerated() {
                let idx = start + Int64(i)
                let id = LedgerEntry.evidenceID(node: nodeID, index: idx)
                let time = UTCTime.now()
                let body = LedgerEntry.canonicalBody(index: idx, evidenceID: id, kind: d.kind, time: time, node: nodeID,
                                                     caseID: d.caseID, officer: d.officer, method: d.method, note: d.note,
                                                     artifacts: d.artifacts, prevHash: prev)
                let leaf = hasher.leaf(body)
                insEntry.reset()
                insEntry.bind(1, idx).bind(2, id).bind(3, d.kind).bind(4, time).bind(5, nodeID).bind(6, d.caseID)
                    .bind(7, d.officer).bind(8, d.method).bind(9, d.note).bind(10, prev).bind(11, leaf).bind(12, body)
                try insEntry.run()
                for (pos, a) in d.artifacts.enumerated() {
                    insArtifact.reset()
                    insArtifact.bind(1, idx).bind(2, Int64(pos)).bind(3, a.name).bind(4, a.size).bind(5, a.sha256).bind(6, a.sm3)
                    try insArtifact.run()
                }
                try frontier.append(leaf, hasher: hasher) { level, index, hash in
                    insNode.reset()
                    insNode.bind(1, TreeNodeID.make(level: level, index: index)).bind(2, hash)
                    try insNode.run()
                }
                out.append(LedgerEntry(index: idx, evidenceID: id, kind: d.kind, time: time, node: nodeID, caseID: d.caseID,
                                       officer: d.officer, method: d.method, note: d.note, artifacts: d.artifacts,
                                       prevHash: prev, leafHash: leaf, body: body))
                prev = leaf
            }
            let cp = Checkpoint(origin: origin, size: frontier.size, root: frontier.root(hasher: hasher))
            let stored = try signAndStore(cp, sign: sign)
            try alsoInTransaction?(out, stored)
            return (out, stored)
        }
    }

    /// Sign a checkpoint for the current tree if none exists at this size (used by init).
    public func ensureCheckpoint(sign: (Checkpoint) throws -> SignedNote) throws -> StoredCheckpoint {
        try db.writeTransaction {
            let n = try size()
            if let existing = try checkpoint(size: n) { return existing }
            let cp = Checkpoint(origin: origin, size: n, root: try proofs.root(size: n))
            return try signAndStore(cp, sign: sign)
        }
    }

    /// Must run inside a write transaction. Refuses to sign anything inconsistent with what was signed before.
    private func signAndStore(_ cp: Checkpoint, sign: (Checkpoint) throws -> SignedNote) throws -> StoredCheckpoint {
        if let last = try checkpoint() {
            let consistent: Bool
            if last.size == cp.size {
                consistent = last.root == cp.root
                if consistent { return last }
            } else if last.size > cp.size || last.size == 0 {
                consistent = last.size == 0 && last.root == MerkleHasher.emptyRoot
            } else {
                let proof = try proofs.consistencyProof(from: last.size, to: cp.size)
                consistent = MerkleVerifier.verifyConsistency(size1: last.size, size2: cp.size, root1: last.root,
                                                              root2: cp.root, proof: proof)
            }
            guard consistent else {
                throw EvidenceError(.verification,
                                    zh: "拒绝签名：新树（\(cp.size)）与已签名检查点（\(last.size)）不一致，账本可能被改动",
                                    en: "refusing to sign: tree at size \(cp.size) is inconsistent with signed checkpoint at size \(last.size); the ledger may have been altered")
            }
        }
        let note = try sign(cp)
        let created = UTCTime.now()
        let s = try db.statement("INSERT INTO checkpoints(size, root, note, created) VALUES (?,?,?,?)")
        s.bind(1, cp.size).bind(2, cp.root).bind(3, note.serialized).bind(4, created)
        try s.run()
        return StoredCheckpoint(size: cp.size, root: cp.root, note: note.serialized, created: created)
    }

    func leafHash(index: Int64) throws -> [UInt8] {
        let s = try db.statement("SELECT leaf_hash FROM entries WHERE idx = ?")
        s.bind(1, index)
        guard try s.step() else {
            throw EvidenceError(.verification, zh: "账本缺少第 \(index) 条", en: "ledger is missing entry \(index)")
        }
        return s.blob(0)
    }

    func treeNode(level: Int, index: Int64) throws -> [UInt8] {
        if level == 0 { return try leafHash(index: index) }
        let s = try db.statement("SELECT hash FROM tree WHERE id = ?")
        s.bind(1, TreeNodeID.make(level: level, index: index))
        guard try s.step() else {
            throw EvidenceError(.verification, zh: "账本缺少树节点（层 \(level)，序号 \(index)）",
                                en: "ledger is missing tree node (level \(level), index \(index))")
        }
        return s.blob(0)
    }

    func loadFrontier(size: Int64) throws -> MerkleFrontier {
        let nodes = try MerkleFrontier.decomposition(of: size).map { (level: $0.level, hash: try treeNode(level: $0.level, index: $0.index)) }
        return MerkleFrontier(size: size, nodes: nodes)
    }
}

/// Tree rows are keyed by level (high bits) and index (low 56 bits); level 0 lives in entries.leaf_hash.
enum TreeNodeID {
    static func make(level: Int, index: Int64) -> Int64 { Int64(level) << 56 | index }
    static func level(_ id: Int64) -> Int { Int(id >> 56) }
    static func index(_ id: Int64) -> Int64 { id & ((Int64(1) << 56) - 1) }
}

struct StoredNodes: MerkleNodeSource {
    let ledger: Ledger
    func node(level: Int, index: Int64) throws -> [UInt8] { try ledger.treeNode(level: level, index: index) }
}

enum LedgerSchema {
    /// Triggers that refuse UPDATE and DELETE on each table.
    static func appendOnly(_ tables: [String]) -> String {
        tables.map { t in """
        CREATE TRIGGER \(t)_no_update BEFORE UPDATE ON \(t) BEGIN SELECT RAISE(ABORT, 'sxevidence ledger is append-only'); END;
        CREATE TRIGGER \(t)_no_delete BEFORE DELETE ON \(t) BEGIN SELECT RAISE(ABORT, 'sxevidence ledger is append-only'); END;
        """ }.joined(separator: "\n")
    }

    static let sql = """
    CREATE TABLE entries(
      idx INTEGER PRIMARY KEY,
      evidence_id TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      time TEXT NOT NULL,
      node TEXT NOT NULL,
      case_id TEXT NOT NULL,
      officer TEXT NOT NULL,
      method TEXT NOT NULL,
      note TEXT,
      prev_hash BLOB NOT NULL,
      leaf_hash BLOB NOT NULL,
      body BLOB NOT NULL);
    CREATE INDEX entries_case ON entries(case_id);
    CREATE TABLE artifacts(
      entry_idx INTEGER NOT NULL,
      pos INTEGER NOT NULL,
      name TEXT NOT NULL,
      size INTEGER NOT NULL,
      sha256 TEXT NOT NULL,
      sm3 TEXT NOT NULL,
      PRIMARY KEY(entry_idx, pos)) WITHOUT ROWID;
    CREATE TABLE tree(id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
    CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, created TEXT NOT NULL);
    \(appendOnly(["entries", "artifacts", "tree", "checkpoints"]))
    PRAGMA user_version = 1;
    """

    static let v2 = """
    CREATE TABLE timestamps(
      id INTEGER PRIMARY KEY,
      subject TEXT NOT NULL,
      algorithm TEXT NOT NULL,
      digest BLOB NOT NULL,
      tsa_url TEXT NOT NULL,
      status TEXT NOT NULL,
      token_sha256 TEXT,
      gen_time TEXT,
      serial TEXT,
      policy TEXT,
      offset_ms INTEGER,
      error TEXT,
      created TEXT NOT NULL);
    CREATE INDEX timestamps_subject ON timestamps(subject);
    \(appendOnly(["timestamps"]))
    PRAGMA user_version = 2;
    """

    /// Consortium state (sxevidence-consortium(5)): cosignatures this node made as a witness, those it
    /// received for its own checkpoints, alerts (fork proofs), and the digests of objects received.
    static let v3 = """
    CREATE TABLE cosigned(
      id INTEGER PRIMARY KEY,
      origin TEXT NOT NULL,
      size INTEGER NOT NULL,
      root BLOB NOT NULL,
      note TEXT NOT NULL,
      anchor_idx INTEGER,
      created TEXT NOT NULL,
      UNIQUE(origin, size));
    CREATE TABLE cosignatures(
      id INTEGER PRIMARY KEY,
      size INTEGER NOT NULL,
      witness TEXT NOT NULL,
      line TEXT NOT NULL,
      created TEXT NOT NULL,
      UNIQUE(size, line));
    CREATE TABLE alerts(
      id INTEGER PRIMARY KEY,
      node TEXT NOT NULL,
      kind TEXT NOT NULL,
      detail TEXT NOT NULL,
      proof TEXT,
      created TEXT NOT NULL);
    CREATE TABLE object_digests(sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, sm3 TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE alert_acks(
      id INTEGER PRIMARY KEY,
      alert_id INTEGER NOT NULL UNIQUE,
      note TEXT NOT NULL,
      created TEXT NOT NULL);
    CREATE INDEX artifacts_sha256 ON artifacts(sha256);
    \(appendOnly(["cosigned", "cosignatures", "alerts", "object_digests", "alert_acks"]))
    PRAGMA user_version = 3;
    """

    /// Which member delivered each received object (sxevidence-consortium(5), ACCESS): the
    /// uploader whose own entry names it with that size and SM3, or the member it was pulled from.
    static let v4 = """
    CREATE TABLE object_holders(sha256 TEXT NOT NULL, node TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY(sha256, node)) WITHOUT ROWID;
    \(appendOnly(["object_holders"]))
    PRAGMA user_version = 4;
    """
}
