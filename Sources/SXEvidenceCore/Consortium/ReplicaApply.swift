import Foundation

/// Receiving another node's entries (a replica's batch, a restore): every check runs before the
/// entries go in, through the same insertion path as local appends (EntryStore.insert, then
/// CheckpointStore.insert), all in one write transaction. Forks and stale batches are thrown as
/// `EvidenceError`s with the cause `ForkDetected` / `StaleOldSize`.
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
        return try store.writeTransaction {
            let held = try checkpoint()
            let m = held?.size ?? 0
            let rA = held?.root ?? MerkleHasher.emptyRoot
            let n = cp.size
            if n == m {
                if rA == cp.root, let held { return .unchanged(held) }
                if n == 0 { return try .applied(added: 0, checkpoint: store.checkpoints.insert(size: cp.size, root: cp.root, note: b.checkpointNote)) }
                throw ForkDetected(proof: ForkProof(node: nodeID, origin: origin, first: held!.note, second: b.checkpointNote,
                                                    path: [], detectedBy: detectedBy)).asError
            }
            if n < m {
                let r = try proofs.root(size: n)
                if r == cp.root || n == 0, let held { return .unchanged(held) }
                let path = try consistencyPath(from: n, to: m)
                throw ForkDetected(proof: ForkProof(node: nodeID, origin: origin, first: b.checkpointNote, second: held!.note,
                                                    path: path, detectedBy: detectedBy)).asError
            }
            guard b.start <= m else { throw StaleOldSize(held: m).asError }
            // With the proof from the size held, a mismatch is either a fork (provable) or a bad proof.
            // A batch that overlaps what is held (old != m) needs no proof: the overlapping entries must
            // equal the held ones and the whole must rebuild the signed root, which is consistency itself.
            if m > 0 && b.old == m {
                if !MerkleVerifier.verifyConsistency(size1: m, size2: n, root1: rA, root2: cp.root, proof: b.proof) {
                    let path = (m & (m - 1) == 0 ? [b.oldRoot] : []) + b.proof
                    if let roots = MerkleVerifier.consistencyRoots(size1: m, size2: n, path: path), roots.new == cp.root, roots.old != rA {
                        throw ForkDetected(proof: ForkProof(node: nodeID, origin: origin, first: held!.note, second: b.checkpointNote,
                                                            path: path, detectedBy: detectedBy)).asError
                    }
                    throw EvidenceError(.verification, zh: "一致性证明（\(m) → \(n)）不成立", en: "consistency proof \(m) -> \(n) does not verify")
                }
            }
            guard try size() == m else {
                throw EvidenceError(.internalError, zh: "副本条目数与检查点不符", en: "replica entry count differs from its checkpoint")
            }
            // Entries already held (a resumed transfer) must be the same bytes.
            for i in b.start..<m {
                guard try store.entries.leafHash(index: i) == hasher.leaf(b.bodies[Int(i - b.start)]) else {
                    throw EvidenceError(.verification, zh: "第 \(i) 条与已有副本不同", en: "entry \(i) differs from the copy held")
                }
            }
            var frontier = try loadFrontier(size: m)
            var prev = m == 0 ? LedgerEntry.zeroHash : try store.entries.leafHash(index: m - 1)
            var prevTime = m == 0 ? nil : (try entry(index: m - 1)).flatMap { UTCTime.parse($0.time) }
            let latest = Date().timeIntervalSince1970 + LedgerEntry.timeTolerance
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
                guard e.entryKind != nil else { throw bad("kind", EntryKind.list, Display.escape(e.kind)) }
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
                try store.entries.insert(e, frontier: &frontier, hasher: hasher)
                prev = e.leafHash
            }
            guard frontier.root(hasher: hasher) == cp.root else {
                throw EvidenceError(.verification, zh: "这些条目重建的根与签名检查点（\(n)）不符",
                                    en: "the entries do not rebuild the signed checkpoint root at size \(n)")
            }
            return .applied(added: Int(n - m), checkpoint: try store.checkpoints.insert(size: cp.size, root: cp.root, note: b.checkpointNote))
        }
    }

    /// 64 lowercase hex digits (what every artifact digest must look like before it names a file).
    public static func isDigest(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
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
}
