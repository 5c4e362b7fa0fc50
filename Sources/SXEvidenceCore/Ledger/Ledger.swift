import Foundation

/// The node's append-only ledger: entries, the RFC 6962 tree over their leaf hashes, and every
/// signed checkpoint, in one SQLite database (WAL, synchronous=FULL). Triggers refuse updates and
/// deletions; appends run in BEGIN IMMEDIATE transactions, so concurrent writers queue in order.
/// Storage is `store` (Store/); this type holds the rules: what may be appended and signed.
public final class Ledger {
    let store: LedgerStore
    public let nodeID: String
    public let origin: String
    let hasher = MerkleHasher()

    public init(path: String, nodeID: String, origin: String, create: Bool = false) throws {
        store = try LedgerStore(path: path, create: create)
        self.nodeID = nodeID
        self.origin = origin
    }

    public struct StoredCheckpoint: Sendable {
        public var size: Int64
        public var root: [UInt8]
        public var note: String
        public var created: String
    }

    // MARK: reading

    public func size() throws -> Int64 { try store.entries.size() }

    public func entry(index: Int64) throws -> LedgerEntry? { try store.entries.entry(index: index) }

    public func entry(evidenceID: String) throws -> LedgerEntry? {
        guard let i = try store.entries.index(evidenceID: evidenceID) else { return nil }
        return try entry(index: i)
    }

    /// Entries in index order, optionally of one case or one kind.
    public func entries(caseID: String? = nil, kind: EntryKind? = nil, _ body: (LedgerEntry) throws -> Void) throws {
        for e in try store.entries.entries(caseID: caseID, kind: kind) { try body(e) }
    }

    /// Artifacts of entries [from, to).
    public func artifacts(from: Int64, to: Int64) throws -> [Artifact] { try store.entries.artifacts(from: from, to: to) }

    public func checkpoint(size: Int64? = nil) throws -> StoredCheckpoint? { try store.checkpoints.checkpoint(size: size) }

    public func allCheckpoints() throws -> [StoredCheckpoint] { try store.checkpoints.all() }

    /// The smallest checkpoint size above `index`.
    public func firstCheckpoint(after index: Int64) throws -> Int64? { try store.checkpoints.first(after: index)?.size }

    // MARK: proofs

    var proofs: MerkleProofBuilder<StoredNodes> { MerkleProofBuilder(source: StoredNodes(tree: store.tree)) }

    public func root(size: Int64) throws -> [UInt8] { try store.readTransaction { try proofs.root(size: size) } }

    public func inclusionProof(index: Int64, size: Int64) throws -> [[UInt8]] {
        try store.readTransaction { try proofs.inclusionProof(leaf: index, size: size) }
    }

    public func consistencyProof(from m: Int64, to n: Int64) throws -> [[UInt8]] {
        try store.readTransaction { try proofs.consistencyProof(from: m, to: n) }
    }

    /// A consistency path in the form fork proofs use (MerkleVerifier.consistencyRoots): the proof
    /// from m to n, with this tree's root at m first when m is a power of two. Opens no transaction
    /// of its own, so it serves inside applyBatch's write transaction as well as outside.
    func consistencyPath(from m: Int64, to n: Int64) throws -> [[UInt8]] {
        (m & (m - 1) == 0 ? [try proofs.root(size: m)] : []) + (try proofs.consistencyProof(from: m, to: n))
    }

    // MARK: appending

    /// Append entries and sign a checkpoint covering them, in one durable transaction.
    /// `sign` turns the new checkpoint into a signed note; it runs inside the transaction so that
    /// no other writer can sign a different tree of the same size in between.
    @discardableResult
    public func append(_ drafts: [EntryDraft], sign: (Checkpoint) throws -> SignedNote,
                       alsoInTransaction: (([LedgerEntry], StoredCheckpoint) throws -> Void)? = nil) throws -> ([LedgerEntry], StoredCheckpoint) {
        try store.writeTransaction {
            let start = try size()
            var frontier = try loadFrontier(size: start)
            var prev = start == 0 ? LedgerEntry.zeroHash : try store.entries.leafHash(index: start - 1)
            var out: [LedgerEntry] = []
            out.reserveCapacity(drafts.count)
            for (i, d) in drafts.enumerated() {
                let idx = start + Int64(i)
                let id = LedgerEntry.evidenceID(node: nodeID, index: idx)
                let time = UTCTime.now()
                let body = LedgerEntry.canonicalBody(index: idx, evidenceID: id, kind: d.kind.rawValue, time: time, node: nodeID,
                                                     caseID: d.caseID, officer: d.officer, method: d.method, note: d.note,
                                                     artifacts: d.artifacts, prevHash: prev)
                let e = LedgerEntry(index: idx, evidenceID: id, kind: d.kind.rawValue, time: time, node: nodeID, caseID: d.caseID,
                                    officer: d.officer, method: d.method, note: d.note, artifacts: d.artifacts,
                                    prevHash: prev, leafHash: hasher.leaf(body), body: body)
                try store.entries.insert(e, frontier: &frontier, hasher: hasher)
                out.append(e)
                prev = e.leafHash
            }
            let cp = Checkpoint(origin: origin, size: frontier.size, root: frontier.root(hasher: hasher))
            let stored = try signAndStore(cp, sign: sign)
            try alsoInTransaction?(out, stored)
            return (out, stored)
        }
    }

    /// Sign a checkpoint for the current tree if none exists at this size (used by init).
    public func ensureCheckpoint(sign: (Checkpoint) throws -> SignedNote) throws -> StoredCheckpoint {
        try store.writeTransaction {
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
                throw EvidenceError.verification(
                    zh: "拒绝签名：新树（\(cp.size)）与已签名检查点（\(last.size)）不一致，账本可能被改动",
                    en: "refusing to sign: tree at size \(cp.size) is inconsistent with signed checkpoint at size \(last.size); the ledger may have been altered")
            }
        }
        let note = try sign(cp)
        return try store.checkpoints.insert(size: cp.size, root: cp.root, note: note.serialized)
    }

    func loadFrontier(size: Int64) throws -> MerkleFrontier {
        let tree = store.tree
        let nodes = try MerkleFrontier.decomposition(of: size).map { (level: $0.level, hash: try tree.node(level: $0.level, index: $0.index)) }
        return MerkleFrontier(size: size, nodes: nodes)
    }
}
