import Foundation

/// What applying a batch did.
public enum ApplyOutcome: Sendable {
    case applied(added: Int, checkpoint: Ledger.StoredCheckpoint)
    case unchanged(Ledger.StoredCheckpoint)

    public var checkpoint: Ledger.StoredCheckpoint {
        switch self { case .applied(_, let c), .unchanged(let c): return c }
    }
    public var added: Int { if case .applied(let n, _) = self { return n } else { return 0 } }
}

/// Errors of the consortium that also say how to report them (exit status, bilingual message).
public protocol EvidenceErrorConvertible: Error {
    var evidenceError: EvidenceError { get }
}

/// The sender's batch starts beyond the size we hold: ask again (tlog-witness's 409 with the size).
public struct StaleOldSize: EvidenceErrorConvertible, Sendable {
    public let held: Int64
    public var evidenceError: EvidenceError {
        EvidenceError(.unavailable, zh: "对方持有 \(held) 条，与本批次起点不符；请重试", en: "the peer holds \(held) entries, not where this batch starts; try again")
    }
}

/// A checkpoint that cannot be on the same append-only log as one already held.
public struct ForkDetected: EvidenceErrorConvertible, Sendable {
    public let proof: ForkProof
    public var evidenceError: EvidenceError {
        EvidenceError(.verification, zh: "检测到分叉：节点 \(proof.node) 的检查点互不一致，已拒绝并保存证明（consortium alerts）",
                      en: "fork detected: checkpoints of node \(proof.node) are inconsistent; refused, proof kept (consortium alerts)")
    }
}

extension Ledger {
    /// Apply another node's batch to this ledger (a replica of that node, or a node restoring itself),
    /// after checking everything in one transaction (sxevidence-consortium(5), RECEIVING):
    /// the checkpoint's signatures (every key in `verifiers`) and origin; consistency with the latest
    /// checkpoint held; each entry's canonical bytes, index, ID, node and chain link; each artifact
    /// through `artifact`; and that the entries rebuild the signed root. Nothing is stored unless
    /// all of it holds.
    public func applyBatch(_ b: EntryBatch, verifiers: [NoteVerifier], detectedBy: String,
                           artifact: (Artifact) throws -> Void) throws -> ApplyOutcome {
        let note = try SignedNote.parse(b.checkpointNote)
        let sigs = note.check(with: verifiers)
        guard sigs.count == verifiers.count, sigs.allSatisfy(\.ok) else {
            throw EvidenceError(.verification, zh: "检查点缺少节点 \(nodeID) 的有效签名（Ed25519 与 SM2）",
                                en: "checkpoint lacks valid signatures by node \(nodeID) (Ed25519 and SM2)")
        }
        let cp = try Checkpoint.parse(text: note.text)
        guard cp.origin == origin else {
            throw EvidenceError(.verification, zh: "检查点来源名 \(cp.origin) 不是 \(origin)", en: "checkpoint origin \(cp.origin) is not \(origin)")
        }
        guard cp.size > 0 || cp.root == MerkleHasher.emptyRoot else {
            throw EvidenceError(.verification, zh: "大小为 0 的检查点必须是空树的根", en: "a checkpoint of size 0 must have the empty tree's root")
        }
        guard b.node == nodeID, cp.size == b.end, b.start >= 0 else {
            throw EvidenceError(.dataError, zh: "批次与检查点大小不符", en: "batch range does not match its checkpoint")
        }
        return try db.writeTransaction {
            let held = try checkpoint()
            let m = held?.size ?? 0
            let rA = held?.root ?? MerkleHasher.emptyRoot
            let n = cp.size
            if n == m {
                if rA == cp.root, let held { return .unchanged(held) }
                if n == 0 { return try .applied(added: 0, checkpoint: storeCheckpoint(cp, note: b.checkpointNote)) }
                throw ForkDetected(proof: ForkProof(node: nodeID, origin: origin, first: held!.note, second: b.checkpointNote,
                                                    path: [], detectedBy: detectedBy))
            }
            if n < m {
                let r = try proofs.root(size: n)
                if r == cp.root || n == 0, let held { return .unchanged(held) }
                let path = try consistencyPath(from: n, to: m)
                throw ForkDetected(proof: ForkProof(node: nodeID, origin: origin, first: b.checkpointNote, second: held!.note,
                                                    path: path, detectedBy: detectedBy))
            }
            guard b.start <= m else { throw StaleOldSize(held: m) }
            // With the proof from the size held, a mismatch is either a fork (provable) or a bad proof.
            // A batch that overlaps what is held (old != m) needs no proof: the overlapping entries must
            // equal the held ones and the whole must rebuild the signed root, which is consistency itself.
            if m > 0 && b.old == m {
                if !MerkleVerifier.verifyConsistency(size1: m, size2: n, root1: rA, root2: cp.root, proof: b.proof) {
                    let path = (m & (m - 1) == 0 ? [b.oldRoot] : []) + b.proof
                    if let roots = MerkleVerifier.consistencyRoots(size1: m, size2: n, path: path), roots.new == cp.root, roots.old != rA {
                        throw ForkDetected(proof: ForkProof(node: nodeID, origin: origin, first: held!.note, second: b.checkpointNote,
                                                            path: path, detectedBy: detectedBy))
                    }
                    throw EvidenceError(.verification, zh: "一致性证明（\(m) → \(n)）不成立", en: "consistency proof \(m) -> \(n) does not verify")
                }
            }
            guard try size() == m else {
                throw EvidenceError(.internalError, zh: "副本条目数与检查点不符", en: "replica entry count differs from its checkpoint")
            }
            // Entries already held (a resumed transfer) must be the same bytes.
            for i in b.start..<m {
                guard try leafHash(index: i) == hasher.leaf(b.bodies[Int(i - b.start)]) else {
                    throw EvidenceError(.verification, zh: "第 \(i) 条与已有副本不同", en: "entry \(i) differs from the copy held")
                }
            }
            var frontier = try loadFrontier(size: m)
            var prev = m == 0 ? LedgerEntry.zeroHash : try leafHash(index: m - 1)
            var prevTime = m == 0 ? nil : (try entry(index: m - 1)).flatMap { UTCTime.parse($0.time) }
            let latest = Date().timeIntervalSince1970 + LedgerEntry.timeTolerance
            let insEntry = try db.statement("INSERT INTO entries(\(Self.entryColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
            let insArtifact = try db.statement("INSERT INTO artifacts(entry_idx, pos, name, size, sha256, sm3) VALUES (?,?,?,?,?,?)")
            let insNode = try db.statement("INSERT INTO tree(id, hash) VALUES (?, ?)")
            for idx in m..<n {
                let body = b.bodies[Int(idx - b.start)]
                let e = try Self.parseEntry(body, leaf: hasher.leaf(body))
                func bad(_ f: String, _ exp: String, _ found: String) -> EvidenceError {
                    EvidenceError(.verification, zh: "第 \(idx) 条的 \(f) 不对：应为 \(exp)，实为 \(found)",
                                  en: "entry \(idx): \(f) should be \(exp), found \(found)")
                }
                guard e.recomputedBody == body else { throw bad("canonical bytes", "RFC 8785", "other bytes") }
                guard e.index == idx else { throw bad("index", "\(idx)", "\(e.index)") }
                guard e.node == nodeID else { throw bad("node", nodeID, e.node) }
                let id = LedgerEntry.evidenceID(node: nodeID, index: idx)
                guard e.evidenceID == id else { throw bad("id", id, e.evidenceID) }
                guard e.prevHash == prev else { throw bad("prev", Hex.encode(prev), Hex.encode(e.prevHash)) }
                // Kind and time as the member's own verify reads them (sxevidence-ledger(5)).
                guard LedgerEntry.kinds.contains(e.kind) else { throw bad("kind", LedgerEntry.kinds.joined(separator: "|"), Display.escape(e.kind)) }
                guard let t = UTCTime.parse(e.time) else { throw bad("time", "an RFC 3339 UTC time", Display.escape(e.time)) }
                if let p = prevTime, t < p - LedgerEntry.timeTolerance {
                    throw bad("time", "no earlier than the previous entry's time less \(Int(LedgerEntry.timeTolerance)) s", e.time)
                }
                guard t <= latest else { throw bad("time", "not later than the receiver's clock plus \(Int(LedgerEntry.timeTolerance)) s", e.time) }
                prevTime = t
                for a in e.artifacts {
                    guard Self.isDigest(a.sha256), Self.isDigest(a.sm3), a.size >= 0 else {
                        throw bad("artifact digest", "64 lowercase hex digits and a size", "\(a.sha256) / \(a.sm3) / \(a.size)")
                    }
                    try artifact(a)
                }
                insEntry.reset()
                insEntry.bind(1, idx).bind(2, e.evidenceID).bind(3, e.kind).bind(4, e.time).bind(5, e.node).bind(6, e.caseID)
                    .bind(7, e.officer).bind(8, e.method).bind(9, e.note).bind(10, e.prevHash).bind(11, e.leafHash).bind(12, body)
                try insEntry.run()
                for (pos, a) in e.artifacts.enumerated() {
                    insArtifact.reset()
                    insArtifact.bind(1, idx).bind(2, Int64(pos)).bind(3, a.name).bind(4, a.size).bind(5, a.sha256).bind(6, a.sm3)
                    try insArtifact.run()
                }
                try frontier.append(e.leafHash, hasher: hasher) { level, index, hash in
                    insNode.reset()
                    insNode.bind(1, TreeNodeID.make(level: level, index: index)).bind(2, hash)
                    try insNode.run()
                }
                prev = e.leafHash
            }
            guard frontier.root(hasher: hasher) == cp.root else {
                throw EvidenceError(.verification, zh: "这些条目重建的根与签名检查点（\(n)）不符",
                                    en: "the entries do not rebuild the signed checkpoint root at size \(n)")
            }
            return .applied(added: Int(n - m), checkpoint: try storeCheckpoint(cp, note: b.checkpointNote))
        }
    }

    /// A consistency path in the form fork proofs use (MerkleVerifier.consistencyRoots): the proof
    /// from m to n, with this tree's root at m first when m is a power of two. Opens no transaction
    /// of its own, so it serves inside applyBatch's write transaction as well as outside.
    func consistencyPath(from m: Int64, to n: Int64) throws -> [[UInt8]] {
        (m & (m - 1) == 0 ? [try proofs.root(size: m)] : []) + (try proofs.consistencyProof(from: m, to: n))
    }

    /// 64 lowercase hex digits (what every artifact digest must look like before it names a file).
    public static func isDigest(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    private func storeCheckpoint(_ cp: Checkpoint, note: String) throws -> StoredCheckpoint {
        let created = UTCTime.now()
        let s = try db.statement("INSERT INTO checkpoints(size, root, note, created) VALUES (?,?,?,?)")
        s.bind(1, cp.size).bind(2, cp.root).bind(3, note).bind(4, created)
        try s.run()
        return StoredCheckpoint(size: cp.size, root: cp.root, note: note, created: created)
    }

    /// Decode an entry's canonical bytes into its fields (the caller re-encodes and compares).
    public static func parseEntry(_ body: [UInt8], leaf: [UInt8]) throws -> LedgerEntry {
        let bad = EvidenceError(.verification, zh: "条目不是有效的 JSON 对象", en: "entry is not a valid JSON object")
        guard let o = try? MiniJSON.parse(body), case .object = o else { throw bad }
        func s(_ k: String) throws -> String { guard let v = o[k]?.string else { throw bad }; return v }
        guard o["format"]?.string == LedgerEntry.format, let idx = o["index"]?.int,
              let arts = o["artifacts"]?.array, let prev = Hex.decode(try s("prev")), prev.count == 32 else { throw bad }
        var artifacts: [Artifact] = []
        artifacts.reserveCapacity(arts.count)
        for a in arts {
            guard let name = a["name"]?.string, let size = a["size"]?.int,
                  let sha = a["sha256"]?.string, let sm3 = a["sm3"]?.string else { throw bad }
            artifacts.append(Artifact(name: name, size: size, sha256: sha, sm3: sm3))
        }
        var note: String?
        if let n = o["note"] { guard let n = n.string else { throw bad }; note = n }
        return LedgerEntry(index: idx, evidenceID: try s("id"), kind: try s("kind"), time: try s("time"), node: try s("node"),
                           caseID: try s("case"), officer: try s("officer"), method: try s("method"), note: note,
                           artifacts: artifacts, prevHash: prev, leafHash: leaf, body: body)
    }

    /// The next batch to send to a peer that holds `old` entries: from `old` to the largest checkpoint
    /// at most `max` entries further (or the next checkpoint when none is that close); nil when the
    /// peer is up to date.
    public func batch(old: Int64, max: Int64) throws -> EntryBatch? {
        try db.readTransaction {
            let total = try size()
            guard old >= 0, max > 0, old < total else { return nil }
            var s = try db.statement("SELECT size, note FROM checkpoints WHERE size > ? AND size <= ? ORDER BY size DESC LIMIT 1")
            s.bind(1, old).bind(2, old + max)
            var end: Int64
            var note: String
            if try s.step() {
                end = s.int(0); note = s.text(1) ?? ""
            } else {
                s = try db.statement("SELECT size, note FROM checkpoints WHERE size > ? ORDER BY size LIMIT 1")
                s.bind(1, old)
                guard try s.step() else { return nil }
                end = s.int(0); note = s.text(1) ?? ""
            }
            let q = try db.statement("SELECT body FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx")
            q.bind(1, old).bind(2, end)
            var bodies: [[UInt8]] = []
            bodies.reserveCapacity(Int(end - old))
            while try q.step() { bodies.append(q.blob(0)) }
            let proof = old == 0 ? [] : try proofs.consistencyProof(from: old, to: end)
            let oldRoot = try proofs.root(size: old)
            return EntryBatch(node: nodeID, start: old, bodies: bodies, old: old, oldRoot: oldRoot, proof: proof, checkpointNote: note)
        }
    }

    /// Artifacts of entries [from, to).
    public func artifacts(from: Int64, to: Int64) throws -> [Artifact] {
        let s = try db.statement("SELECT name, size, sha256, sm3 FROM artifacts WHERE entry_idx >= ? AND entry_idx < ? ORDER BY entry_idx, pos")
        s.bind(1, from).bind(2, to)
        var out: [Artifact] = []
        while try s.step() { out.append(Artifact(name: s.text(0) ?? "", size: s.int(1), sha256: s.text(2) ?? "", sm3: s.text(3) ?? "")) }
        return out
    }

    // MARK: consortium tables

    /// Cosignature lines this node received for its own checkpoint of `size`.
    public func storeCosignatures(size: Int64, witness: String, lines: [String]) throws {
        try db.writeTransaction {
            let s = try db.statement("INSERT OR IGNORE INTO cosignatures(size, witness, line, created) VALUES (?,?,?,?)")
            for l in lines {
                s.reset()
                s.bind(1, size).bind(2, witness).bind(3, l).bind(4, UTCTime.now())
                try s.run()
            }
        }
    }

    public func cosignatureLines(size: Int64) throws -> [String] {
        let s = try db.statement("SELECT line FROM cosignatures WHERE size = ? ORDER BY id")
        s.bind(1, size)
        var out: [String] = []
        while try s.step() { out.append(s.text(0) ?? "") }
        return out
    }

    /// A checkpoint note with the cosignatures received for it appended (a valid signed note).
    public func cosignedNote(_ cp: StoredCheckpoint) throws -> String {
        cp.note + (try cosignatureLines(size: cp.size)).joined()
    }

    public struct CosignedRow: Sendable {
        public var origin: String
        public var size: Int64
        public var root: [UInt8]
        public var note: String
        public var anchorIndex: Int64?
        public var created: String
    }

    static let cosignedColumns = "origin, size, root, note, anchor_idx, created"
    static func readCosigned(_ s: SQLiteStatement) -> CosignedRow {
        CosignedRow(origin: s.text(0) ?? "", size: s.int(1), root: s.blob(2), note: s.text(3) ?? "",
                    anchorIndex: s.isNull(4) ? nil : s.int(4), created: s.text(5) ?? "")
    }

    public func cosigned(origin: String, size: Int64? = nil) throws -> CosignedRow? {
        let s: SQLiteStatement
        if let size {
            s = try db.statement("SELECT \(Self.cosignedColumns) FROM cosigned WHERE origin = ? AND size = ?")
            s.bind(1, origin).bind(2, size)
        } else {
            s = try db.statement("SELECT \(Self.cosignedColumns) FROM cosigned WHERE origin = ? ORDER BY size DESC LIMIT 1")
            s.bind(1, origin)
        }
        guard try s.step() else { return nil }
        return Self.readCosigned(s)
    }

    public func allCosigned() throws -> [CosignedRow] {
        let s = try db.statement("SELECT \(Self.cosignedColumns) FROM cosigned ORDER BY id")
        var out: [CosignedRow] = []
        while try s.step() { out.append(Self.readCosigned(s)) }
        return out
    }

    /// Must run inside a write transaction.
    func insertCosigned(origin: String, size: Int64, root: [UInt8], note: String, anchorIndex: Int64?) throws {
        let s = try db.statement("INSERT INTO cosigned(origin, size, root, note, anchor_idx, created) VALUES (?,?,?,?,?,?)")
        s.bind(1, origin).bind(2, size).bind(3, root).bind(4, note)
        if let anchorIndex { s.bind(5, anchorIndex) }
        s.bind(6, UTCTime.now())
        try s.run()
    }

    public struct Alert: Sendable {
        public var id: Int64
        public var node: String
        public var kind: String
        public var detail: String
        public var proof: String?
        public var created: String
        public var acknowledged: String?    // the operator's note, once acknowledged
    }

    /// Record that an operator has dealt with an alert (the alert itself stays).
    public func acknowledgeAlert(_ id: Int64, note: String) throws {
        try db.writeTransaction {
            let q = try db.statement("SELECT 1 FROM alerts WHERE id = ?")
            q.bind(1, id)
            guard try q.step() else { throw EvidenceError(.notFound, zh: "没有告警 #\(id)", en: "no alert #\(id)") }
            q.reset()
            let s = try db.statement("INSERT OR IGNORE INTO alert_acks(alert_id, note, created) VALUES (?,?,?)")
            s.bind(1, id).bind(2, note).bind(3, UTCTime.now())
            try s.run()
        }
    }

    public func recordAlert(node: String, kind: String, detail: String, proof: String?) throws {
        try db.writeTransaction {
            let s = try db.statement("INSERT INTO alerts(node, kind, detail, proof, created) VALUES (?,?,?,?,?)")
            s.bind(1, node).bind(2, kind).bind(3, detail).bind(4, proof).bind(5, UTCTime.now())
            try s.run()
        }
    }

    public func alerts() throws -> [Alert] {
        let s = try db.statement("SELECT a.id, a.node, a.kind, a.detail, a.proof, a.created, k.note FROM alerts a LEFT JOIN alert_acks k ON k.alert_id = a.id ORDER BY a.id")
        var out: [Alert] = []
        while try s.step() {
            out.append(Alert(id: s.int(0), node: s.text(1) ?? "", kind: s.text(2) ?? "", detail: s.text(3) ?? "",
                             proof: s.isNull(4) ? nil : s.text(4), created: s.text(5) ?? "", acknowledged: s.isNull(6) ? nil : s.text(6)))
        }
        return out
    }

    public func objectDigest(sha256: String) throws -> (size: Int64, sm3: String)? {
        let s = try db.statement("SELECT size, sm3 FROM object_digests WHERE sha256 = ?")
        s.bind(1, sha256)
        guard try s.step() else { return nil }
        return (s.int(0), s.text(1) ?? "")
    }

    /// Record that `node` delivered these objects (it proved it holds the bytes).
    public func recordHolder(_ digests: [String], node: String) throws {
        guard !digests.isEmpty else { return }
        try db.writeTransaction {
            let s = try db.statement("INSERT OR IGNORE INTO object_holders(sha256, node, created) VALUES (?,?,?)")
            let now = UTCTime.now()
            for d in digests {
                s.reset()
                s.bind(1, d).bind(2, node).bind(3, now)
                try s.run()
            }
        }
    }

    public func isHolder(sha256: String, node: String) throws -> Bool {
        let s = try db.statement("SELECT 1 FROM object_holders WHERE sha256 = ? AND node = ?")
        s.bind(1, sha256).bind(2, node)
        defer { s.reset() }
        return try s.step()
    }

    /// Whether an entry of this ledger names the object with exactly this size and SM3.
    public func names(sha256: String, size: Int64, sm3: String) throws -> Bool {
        let s = try db.statement("SELECT 1 FROM artifacts WHERE sha256 = ? AND size = ? AND sm3 = ? LIMIT 1")
        s.bind(1, sha256).bind(2, size).bind(3, sm3)
        defer { s.reset() }
        return try s.step()
    }

    public func recordObjectDigests(_ list: [(sha256: String, size: Int64, sm3: String)]) throws {
        guard !list.isEmpty else { return }
        try db.writeTransaction {
            let s = try db.statement("INSERT OR IGNORE INTO object_digests(sha256, size, sm3) VALUES (?,?,?)")
            for d in list {
                s.reset()
                s.bind(1, d.sha256).bind(2, d.size).bind(3, d.sm3)
                try s.run()
            }
        }
    }
}
