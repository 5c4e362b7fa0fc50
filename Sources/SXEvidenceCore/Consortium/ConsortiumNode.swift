import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One node's consortium side, shared by the server, `sync`, `restore` and `verify --consortium`:
/// the replicas it keeps of other members' ledgers (`replicas/<node>/ledger.db`, objects in the
/// node's own store), witnessing (cosign and anchor), and alerts. Not thread-safe: callers serialize.
public final class ConsortiumNode {
    public let home: NodeHome
    let keys: NodeKeys?
    private var replicas: [String: Ledger] = [:]

    /// `keys` are needed to cosign and anchor (the city, or any node that witnesses).
    public init(home: NodeHome, keys: NodeKeys?) {
        self.home = home
        self.keys = keys
    }

    public func policy() throws -> ConsortiumPolicy { try home.requirePolicy() }

    /// Drop read snapshots held by finished statements, so a long-running server sees what other
    /// processes (a `sync --pull`, an `add`) committed since. Call at the start of every request.
    public func refresh() {
        home.ledger.refresh()
        for r in replicas.values { r.refresh() }
    }

    /// Before serving a request: the databases this process opened must still be the files at their
    /// paths. A ledger replaced (or swapped for a link) while the server runs is refused, not served.
    public func checkFiles() throws {
        for l in [home.ledger] + replicas.values where !l.databaseStillAtPath {
            throw EvidenceError(.ioError, zh: "账本数据库 \(l.databasePath) 在服务运行期间被替换；已拒绝服务，请检查后重启 serve",
                                en: "the ledger database \(l.databasePath) was replaced while the server ran; refusing to serve it: check it and restart serve")
        }
    }

    public func replicaPath(_ node: String) -> String { home.path + "/replicas/\(node)/ledger.db" }

    public func hasReplica(_ node: String) -> Bool { POSIXFile.exists(replicaPath(node)) }

    public func replica(for m: ConsortiumPolicy.Member) throws -> Ledger {
        if let r = replicas[m.nodeID] { return r }
        let path = replicaPath(m.nodeID)
        try POSIXFile.mkdirs(POSIXFile.parent(path), mode: 0o700)
        let r = try Ledger(path: path, nodeID: m.nodeID, origin: m.origin, create: !POSIXFile.exists(path))
        replicas[m.nodeID] = r
        return r
    }

    // MARK: objects

    /// Check an artifact against the store: present objects must have the recorded size and SM3
    /// (SHA-256 is their name); absent ones are allowed (left at the sender) and counted.
    func checkArtifact(_ a: Artifact, absent: inout Int) throws {
        let path = home.store.path(forSHA256: a.sha256)
        guard POSIXFile.exists(path) else { absent += 1; return }
        var digest = try home.ledger.objectDigest(sha256: a.sha256)
        if digest == nil {
            let h = try ObjectStore.hashFile(path)
            guard Hex.encode(h.sha256) == a.sha256 else {
                throw EvidenceError(.verification, zh: "证据库对象 \(a.sha256) 已损坏", en: "stored object \(a.sha256) is damaged")
            }
            digest = (h.size, Hex.encode(h.sm3))
            try home.ledger.recordObjectDigests([(a.sha256, h.size, Hex.encode(h.sm3))])
        }
        guard digest!.size == a.size, digest!.sm3 == a.sm3 else {
            throw EvidenceError(.verification, zh: "对象 \(a.sha256) 的大小或 SM3 与条目记载不符（\(a.name)）",
                                en: "object \(a.sha256) does not match the entry's size or SM3 (\(a.name))")
        }
    }

    /// Take a received file (in the store's tmp folder) into the store if its SHA-256 is `expected`.
    /// `holder` is the member that delivered it. With `entryOf`, the object is accepted only when an
    /// entry of that member's replica names it with exactly its size and SM3 (uploads).
    public func receiveObject(tmpPath: String, expectedSHA256: String, holder: String?, entryOf: ConsortiumPolicy.Member? = nil) throws {
        defer { unlink(tmpPath) }
        let h = try ObjectStore.hashFile(tmpPath)
        guard Hex.encode(h.sha256) == expectedSHA256 else {
            throw EvidenceError(.verification, zh: "对象内容的 SHA-256 与 \(expectedSHA256) 不符", en: "object content does not hash to \(expectedSHA256)")
        }
        if let m = entryOf { try requireEntry(of: m, sha256: expectedSHA256, size: h.size, sm3: Hex.encode(h.sm3)) }
        let dest = home.store.path(forSHA256: expectedSHA256)
        if !ObjectStore.intact(dest, size: h.size) {
            chmod(tmpPath, 0o444)
            try POSIXFile.mkdirs(POSIXFile.parent(dest))
            guard rename(tmpPath, dest) == 0 else { throw POSIXFile.ioError("rename", dest) }
        }
        try home.ledger.recordObjectDigests([(expectedSHA256, h.size, Hex.encode(h.sm3))])
        if let holder { try home.ledger.recordHolder([expectedSHA256], node: holder) }
    }

    /// A member may deliver only objects its own entries name (no storage for objects nothing names).
    func requireEntry(of m: ConsortiumPolicy.Member, sha256: String, size: Int64, sm3: String) throws {
        guard hasReplica(m.nodeID), try replica(for: m).names(sha256: sha256, size: size, sm3: sm3) else {
            throw EvidenceError(.denied, zh: "节点 \(m.nodeID) 的条目中没有这个对象（\(sha256)，\(size) 字节）；请先推送条目",
                                en: "no entry of node \(m.nodeID) names object \(sha256) with this size and SM3; push the entries first")
        }
    }

    /// Whether `requester` may read this object here (Access.allows).
    public func mayRead(object sha256: String, requester: ConsortiumPolicy.Member) throws -> Bool {
        Access.allows(requester, .object(holders: try home.ledger.isHolder(sha256: sha256, node: requester.nodeID) ? [requester.nodeID] : []))
    }

    public func temporaryObjectPath() -> String { home.store.nextTemporaryName() }

    /// Store a set of small received objects: every digest (and, with `entryOf`, that an entry of that
    /// member names it) is checked before any is stored; the caller makes them durable with one `store.sync()`.
    public func receiveObjects(_ items: [(String, ArraySlice<UInt8>)], holder: String?, entryOf: ConsortiumPolicy.Member? = nil) throws {
        var digests: [(String, Int64, String)] = []
        for (d, bytes) in items {
            let b = Array(bytes)
            guard Hex.encode(Hashing.sha256(b)) == d else {
                throw EvidenceError(.verification, zh: "对象内容的 SHA-256 与 \(d) 不符", en: "object content does not hash to \(d)")
            }
            let sm3 = Hex.encode(Hashing.sm3(b))
            if let m = entryOf { try requireEntry(of: m, sha256: d, size: Int64(b.count), sm3: sm3) }
            digests.append((d, Int64(b.count), sm3))
        }
        for (d, bytes) in items {
            let dest = home.store.path(forSHA256: d)
            if ObjectStore.intact(dest, size: Int64(bytes.count)) { continue }
            let tmp = temporaryObjectPath()
            let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
            guard fd >= 0 else { throw POSIXFile.ioError("open", tmp) }
            let ok = bytes.withUnsafeBytes { POSIXFile.writeAll(fd, $0) }
            close(fd)
            guard ok else { unlink(tmp); throw POSIXFile.ioError("write", tmp) }
            try POSIXFile.mkdirs(POSIXFile.parent(dest))
            guard rename(tmp, dest) == 0 else { unlink(tmp); throw POSIXFile.ioError("rename", dest) }
        }
        try home.ledger.recordObjectDigests(digests.map { ($0.0, $0.1, $0.2) })
        if let holder { try home.ledger.recordHolder(digests.map(\.0), node: holder) }
    }

    /// Download the objects a batch names that this store lacks (pull, restore); each is checked
    /// against its name before it is stored, and all are made durable before returning. An object
    /// the peer does not hold (404) is counted as missing.
    public func fetchObjects(for batch: EntryBatch, from c: NodeClient, holder: String?) throws -> (fetched: Int, missing: Int) {
        var wanted = Set<String>()
        for body in batch.bodies {
            for a in try Ledger.parseEntry(body, leaf: []).artifacts where Ledger.isDigest(a.sha256) { wanted.insert(a.sha256) }   // others fail on receipt
        }
        var fetched = 0, missing = 0
        // From a member (pull): also what it has not delivered itself, so that it holds its own objects here.
        let want = try holder.map { try undelivered(Array(wanted).sorted(), by: $0) } ?? missingObjects(Array(wanted).sorted())
        for d in want {
            let tmp = temporaryObjectPath()
            let r = try c.request(.get, "/v1/objects/\(d)", toFile: tmp, maxBytes: 64 << 30, long: true)
            if r.status == 404 { unlink(tmp); missing += 1; continue }
            guard r.status == 200 else { unlink(tmp); throw c.failure(r, "对象 / object \(d)") }
            try receiveObject(tmpPath: tmp, expectedSHA256: d, holder: holder)
            fetched += 1
        }
        try home.store.sync()
        return (fetched, missing)
    }

    /// Which of these SHA-256 digests the store lacks.
    public func missingObjects(_ digests: [String]) -> [String] {
        digests.filter { !POSIXFile.exists(home.store.path(forSHA256: $0)) }
    }

    /// For a member's probe: which of these it has not delivered itself (whether the store holds
    /// them from elsewhere is not said).
    public func undelivered(_ digests: [String], by node: String) throws -> [String] {
        try digests.filter { !(try home.ledger.isHolder(sha256: $0, node: node)) || !POSIXFile.exists(home.store.path(forSHA256: $0)) }
    }

    // MARK: receiving

    public struct Received: Sendable {
        public var node: String
        public var added: Int
        public var size: Int64
        public var absentObjects: Int
        public var cosignature: [String]     // signature lines for the checkpoint now held
    }

    /// Apply a member's batch to its replica, then cosign and anchor the new checkpoint.
    /// A fork is recorded as an alert (with its proof) and rethrown.
    public func receive(_ batch: EntryBatch) throws -> Received {
        let p = try policy()
        guard let m = p.member(batch.node), m.nodeID != home.config.nodeID else {
            throw EvidenceError(.denied, zh: "节点 \(batch.node) 不是联盟中的其他成员", en: "node \(batch.node) is not another member of the consortium")
        }
        try home.store.sync()
        let replica = try replica(for: m)
        var absent = 0
        var checked = Set<Artifact>()
        let outcome: ApplyOutcome
        do {
            outcome = try replica.applyBatch(batch, verifiers: try m.noteVerifiers(), detectedBy: home.config.nodeID) { a in
                // The same object named the same way is checked once per batch.
                var key = a
                key.name = ""
                if checked.insert(key).inserted { try checkArtifact(a, absent: &absent) }
            }
        } catch let e as EvidenceError {
            if let f = e.cause(as: ForkDetected.self) { try raiseFork(f.proof, member: m) }
            throw e
        }
        let lines = try cosignAndAnchor(member: m, replica: replica)
        return Received(node: m.nodeID, added: outcome.added, size: outcome.checkpoint.size, absentObjects: absent, cosignature: lines)
    }

    public func raiseFork(_ proof: ForkProof, member m: ConsortiumPolicy.Member) throws {
        let detail = "checkpoints of \(m.origin) are inconsistent (first vs second in the proof)"
        try home.ledger.recordAlert(node: m.nodeID, kind: "fork", detail: detail, proof: String(decoding: proof.json, as: UTF8.self))
    }

    /// Cosign the replica's latest checkpoint (when this node is a cosigner) and append an anchor
    /// entry holding the cosigned note to this node's own ledger, once per checkpoint.
    /// Returns the cosignature lines (empty when this node does not cosign).
    @discardableResult
    public func cosignAndAnchor(member m: ConsortiumPolicy.Member, replica: Ledger) throws -> [String] {
        guard let keys, try policy().cosigners.contains(home.config.nodeID) else { return [] }
        refresh()
        guard let cp = try replica.checkpoint(), cp.size > 0 else { return [] }
        if let done = try home.ledger.cosigned(origin: m.origin, size: cp.size) {
            guard done.root == cp.root else {
                // Cosigned earlier (add-checkpoint) with another root at this very size: a fork.
                let proof = ForkProof(node: m.nodeID, origin: m.origin, first: try Self.stripCosignatures(done.note, witness: keys.name),
                                      second: cp.note, path: [], detectedBy: home.config.nodeID)
                try raiseFork(proof, member: m)
                throw ForkDetected(proof: proof).asError
            }
            return try Self.cosignatureLines(done.note, witness: keys.name)
        }
        // A witness never cosigns a smaller tree than it already has (tlog-cosignature: the latest it
        // observed); the replica is then catching up to a checkpoint cosigned through add-checkpoint.
        if let w = try home.ledger.cosigned(origin: m.origin), w.size > cp.size { return [] }
        // Anything cosigned earlier (through add-checkpoint) that the replica now covers must agree.
        if let w = try home.ledger.cosigned(origin: m.origin), w.size <= cp.size, w.size > 0 {
            let r = try replica.root(size: w.size)
            if r != w.root {
                let path = w.size < cp.size ? try replica.consistencyPath(from: w.size, to: cp.size) : []
                let proof = ForkProof(node: m.nodeID, origin: m.origin, first: try Self.stripCosignatures(w.note, witness: keys.name),
                                      second: cp.note, path: path, detectedBy: home.config.nodeID)
                try raiseFork(proof, member: m)
                throw ForkDetected(proof: proof).asError
            }
        }
        return try cosignOrAdopt(note: cp.note, checkpoint: try Checkpoint.parse(text: try SignedNote.parse(cp.note).text), member: m)
    }

    /// `cosign`, except that when another process (or connection) cosigned the same checkpoint
    /// first (the `cosigned` row's UNIQUE(origin, size) refused ours, and the anchor with it), its
    /// cosignature lines are returned. Any other failure, a verification failure above all, is thrown.
    func cosignOrAdopt(note: String, checkpoint cp: Checkpoint, member m: ConsortiumPolicy.Member) throws -> [String] {
        guard let keys else { return [] }
        do {
            return try cosign(note: note, checkpoint: cp, member: m)
        } catch let e as EvidenceError where e.cause(as: AlreadyCosigned.self) != nil {
            refresh()
            guard let done = try home.ledger.cosigned(origin: m.origin, size: cp.size) else { throw e }
            return try Self.cosignatureLines(done.note, witness: keys.name)
        }
    }

    /// Cosign a verified checkpoint and anchor it in one transaction of our own ledger.
    func cosign(note: String, checkpoint cp: Checkpoint, member m: ConsortiumPolicy.Member) throws -> [String] {
        guard let keys else { return [] }
        let parsed = try SignedNote.parse(note)
        let now = UInt64(Date().timeIntervalSince1970)
        let sigs = try Cosignature.sign(checkpointText: parsed.text, witness: keys, time: now)
        let cosignedNote = note + sigs.map(\.line).joined()
        let draft = EntryDraft(kind: .anchor, caseID: "", officer: home.config.nodeID, method: "consortium-anchor",
                               note: cosignedNote, artifacts: [])
        try home.ledger.append([draft], sign: keys.sign) { entries, _ in
            try self.home.ledger.insertCosigned(origin: m.origin, size: cp.size, root: cp.root, note: cosignedNote,
                                                anchorIndex: entries[0].index)
        }
        return sigs.map(\.line)
    }

    static func cosignatureLines(_ note: String, witness: String) throws -> [String] {
        try SignedNote.parse(note).signatures.filter { $0.name == witness }.map(\.line)
    }

    static func stripCosignatures(_ note: String, witness: String) throws -> String {
        let n = try SignedNote.parse(note)
        return SignedNote(text: n.text, signatures: n.signatures.filter { $0.name != witness }).serialized
    }
}
