import Dispatch
import Foundation
import Synchronization

/// Recomputes everything a ledger claims (sxevidence-ledger(5), VERIFICATION): entries, tree,
/// checkpoints and their signatures, time stamps, objects. It is given what it checks against (the
/// ledger, an object reader, the node's public keys, the trusted TSAs), not a node home
/// (`LedgerVerifier(home:)` in Node/ builds one for a home).
public struct LedgerVerifier {
    public let ledger: Ledger
    public let objects: any ObjectReader
    /// The TSAs whose tokens are checked (their trusted certificates); tokens from others are skipped.
    public var trustedTSAs: [TrustedTSA]
    public var checkObjects = true
    /// Keys to check checkpoints with (a replica's node keys); default: `defaultKeys()`.
    public var verifierKeys: [NoteVerifier]?
    /// A replica may lack objects its node kept at home (sync --no-objects): count them, do not fail.
    public var absentObjectsAllowed = false
    public var maxFailures = 100
    let defaultKeys: () throws -> [NoteVerifier]

    public init(ledger: Ledger, objects: any ObjectReader, trustedTSAs: [TrustedTSA],
                defaultKeys: @escaping () throws -> [NoteVerifier]) {
        self.ledger = ledger
        self.objects = objects
        self.trustedTSAs = trustedTSAs
        self.defaultKeys = defaultKeys
    }

    public func run(progress: (String, Int64, Int64) -> Void = { _, _, _ in }) throws -> VerifyReport {
        try CryptoSelfTest.require()
        var report = VerifyReport()
        var failures: [VerifyFailure] = []
        func fail(_ id: String?, _ field: String, _ expected: String, _ found: String, zh: String, en: String) {
            if failures.count < maxFailures {
                failures.append(VerifyFailure(evidenceID: id, field: field, expected: expected, found: found, zh: zh, en: en))
            }
        }
        let store = ledger.store
        return try store.readTransaction {

        // 1. Entries: canonical bytes, leaf hash, chain link, index and ID. Large ledgers are checked in
        // two index ranges at once, each on its own read connection; the links between ranges are
        // checked after.
        var t0 = Date()
        let hasher = MerkleHasher()
        let total = try ledger.size()
        let parts = total >= 20_000 ? 2 : 1
        let bounds = (0...parts).map { total * Int64($0) / Int64(parts) }
        let nodeID = ledger.nodeID
        let limit = maxFailures
        let passes: [EntryPass]
        if parts == 1 {
            passes = [try EntryPass.run(store: store, from: 0, to: total, nodeID: nodeID, maxFailures: limit)]
        } else {
            let path = store.path
            let results = Mutex<[Int: Result<EntryPass, any Error>]>([:])
            DispatchQueue.concurrentPerform(iterations: parts) { k in
                let r = Result { () throws -> EntryPass in
                    let reader = try LedgerStore.reader(path: path)
                    return try reader.readTransaction {
                        try EntryPass.run(store: reader, from: bounds[k], to: bounds[k + 1], nodeID: nodeID, maxFailures: limit)
                    }
                }
                results.withLock { $0[k] = r }
            }
            passes = try results.withLock { done in try (0..<parts).map { try done[$0]!.get() } }
        }
        var leaves = HashLevel(capacity: Int(total))
        var artifactsBySHA: [String: (Artifact, String)] = [:]
        var entriesOK = true
        var lastLeaf = LedgerEntry.zeroHash
        for pass in passes {
            if let first = pass.first, first.prevHash != lastLeaf {
                entriesOK = false
                fail(first.id, "prev", Hex.encode(lastLeaf), Hex.encode(first.prevHash),
                     zh: "\(first.id)：哈希链断裂（prev 不等于前一条的叶哈希）", en: "\(first.id): hash chain broken (prev is not the previous entry's leaf hash)")
            }
            for f in pass.failures { fail(f.evidenceID, f.field, f.expected, f.found, zh: f.zh, en: f.en) }
            entriesOK = entriesOK && pass.failures.isEmpty
            leaves.append(contentsOf: pass.leaves)
            for (k, v) in pass.artifacts where artifactsBySHA[k] == nil { artifactsBySHA[k] = v }
            if pass.leaves.count > 0 { lastLeaf = pass.leaves[pass.leaves.count - 1] }
        }
        progress("entries", total, total)
        report.checks.append(VerifyCheck(name: "entries", ok: entriesOK, count: Int64(leaves.count),
                                         seconds: Date().timeIntervalSince(t0),
                                         detail: "canonical bytes, leaf hash, hash chain, index, evidence ID"))

        // 2. Tree: every stored full-subtree node equals the one recomputed from the leaves.
        t0 = Date()
        let levels = Self.buildLevels(leaves, hasher: hasher)
        var treeOK = true
        var stored: Int64 = 0
        var expectedIDs = Self.expectedNodeIDs(levels).makeIterator()
        var want = expectedIDs.next()
        try store.tree.scan { nid, h in
            stored += 1
            while let w = want, w < nid {
                treeOK = false
                fail(nil, "tree", "level \(TreeNodeID.level(w)) index \(TreeNodeID.index(w))", "missing",
                     zh: "树节点缺失（层 \(TreeNodeID.level(w))，序号 \(TreeNodeID.index(w))）",
                     en: "tree node missing (level \(TreeNodeID.level(w)), index \(TreeNodeID.index(w)))")
                want = expectedIDs.next()
            }
            let level = TreeNodeID.level(nid), index = TreeNodeID.index(nid)
            if want != nid {
                treeOK = false
                fail(nil, "tree", "none", "level \(level) index \(index)", zh: "多出的树节点（层 \(level)，序号 \(index)）",
                     en: "unexpected tree node (level \(level), index \(index)) beyond the entries")
                return
            }
            want = expectedIDs.next()
            let expect = levels[level][Int(index)]
            if h != expect {
                treeOK = false
                fail(nil, "tree", Hex.encode(expect), Hex.encode(h), zh: "树节点哈希不符（层 \(level)，序号 \(index)）",
                     en: "tree node hash mismatch (level \(level), index \(index))")
            }
        }
        if let w = want {
            treeOK = false
            fail(nil, "tree", "level \(TreeNodeID.level(w)) index \(TreeNodeID.index(w))", "missing",
                 zh: "树节点缺失（层 \(TreeNodeID.level(w))，序号 \(TreeNodeID.index(w))）",
                 en: "tree node missing (level \(TreeNodeID.level(w)), index \(TreeNodeID.index(w)))")
        }
        report.checks.append(VerifyCheck(name: "tree", ok: treeOK, count: stored, seconds: Date().timeIntervalSince(t0),
                                         detail: "RFC 6962 subtree hashes recomputed from the leaves"))

        // 3. Checkpoints: root, text, consistency with the previous one; 4. their signatures.
        t0 = Date()
        var cpOK = true
        var sigSeconds = 0.0
        var sigOK = true
        let verifiers = try verifierKeys ?? defaultKeys()
        let checkpoints = try ledger.allCheckpoints()
        let source = LevelSource(levels: levels)
        let builder = MerkleProofBuilder(source: source)
        var previous: Ledger.StoredCheckpoint?
        for cp in checkpoints {
            let label = "checkpoint@\(cp.size)"
            if cp.size > leaves.count {
                cpOK = false
                let missing = LedgerEntry.evidenceID(node: ledger.nodeID, index: Int64(leaves.count))
                fail(missing, "size", String(cp.size), String(leaves.count),
                     zh: "检查点 \(cp.size) 覆盖 \(cp.size) 条，但账本只有 \(leaves.count) 条：自 \(missing) 起的条目缺失",
                     en: "checkpoint at size \(cp.size) covers \(cp.size) entries but the ledger has \(leaves.count): entries from \(missing) are missing")
                continue
            }
            let root = try builder.root(size: cp.size)
            if root != cp.root {
                cpOK = false
                fail(label, "root", Base64.encode(root), Base64.encode(cp.root),
                     zh: "检查点 \(cp.size) 的根哈希与重算结果不符", en: "checkpoint at size \(cp.size): root does not match the recomputed tree")
            }
            let s0 = Date()
            do {
                let note = try SignedNote.parse(cp.note)
                let expectedText = Checkpoint(origin: ledger.origin, size: cp.size, root: root).text
                if note.text != expectedText {
                    cpOK = false
                    fail(label, "note", Checkpoint(origin: ledger.origin, size: cp.size, root: root).text, note.text,
                         zh: "检查点 \(cp.size) 的签名文本与账本不符", en: "checkpoint at size \(cp.size): signed text does not match the ledger")
                }
                let results = note.check(with: verifiers)
                for v in verifiers {
                    let r = results.first { $0.verifier.keyID == v.keyID && $0.verifier.algorithm == v.algorithm }
                    if r?.ok != true {
                        sigOK = false
                        fail(label, "signature/\(v.algorithm)", "valid \(v.algorithm) signature by \(v.name)", r == nil ? "absent" : "invalid",
                             zh: "检查点 \(cp.size) 的 \(v.algorithm) 签名\(r == nil ? "缺失" : "无效")",
                             en: "checkpoint at size \(cp.size): \(v.algorithm) signature \(r == nil ? "is missing" : "does not verify")")
                    }
                }
            } catch let e as EvidenceError {
                sigOK = false
                fail(label, "note", "signed note", "unparseable", zh: "检查点 \(cp.size)：\(e.zh)", en: "checkpoint at size \(cp.size): \(e.en)")
            }
            sigSeconds += Date().timeIntervalSince(s0)
            if let p = previous, p.size > 0, p.size < cp.size {
                let proof = try builder.consistencyProof(from: p.size, to: cp.size)
                if !MerkleVerifier.verifyConsistency(size1: p.size, size2: cp.size, root1: p.root, root2: cp.root, proof: proof) {
                    cpOK = false
                    fail(label, "consistency", "consistent with checkpoint@\(p.size)", "inconsistent",
                         zh: "检查点 \(p.size) 与 \(cp.size) 不一致", en: "checkpoints at sizes \(p.size) and \(cp.size) are inconsistent")
                }
            }
            previous = cp
        }
        if let last = checkpoints.last, last.size < leaves.count {
            cpOK = false
            let first = LedgerEntry.evidenceID(node: ledger.nodeID, index: last.size)
            fail(first, "checkpoint", "a checkpoint covering \(leaves.count) entries", "latest covers \(last.size)",
                 zh: "自 \(first) 起的条目没有签名检查点覆盖", en: "entries from \(first) are not covered by any signed checkpoint")
        }
        report.checks.append(VerifyCheck(name: "checkpoints", ok: cpOK, count: Int64(checkpoints.count),
                                         seconds: Date().timeIntervalSince(t0) - sigSeconds,
                                         detail: "roots recomputed, signed text, consistency between successive checkpoints"))
        report.checks.append(VerifyCheck(name: "signatures", ok: sigOK, count: Int64(checkpoints.count * verifiers.count),
                                         seconds: sigSeconds, detail: "Ed25519 and SM2-SM3 checkpoint signatures"))

        // 5. Time stamps: every granted token verifies against the TSA's trusted certificates and covers
        // exactly what it names; pending ones are counted, not failed.
        t0 = Date()
        var tsOK = true
        var granted: Int64 = 0
        var pendingCount = 0
        var skipped = 0
        for row in try ledger.latestTimestamps() {
            guard row.status == .granted, let token = row.tokenSHA256 else { pendingCount += 1; continue }
            guard let tsa = trustedTSAs.first(where: { $0.url == row.tsaURL }) else { skipped += 1; continue }
            granted += 1
            let label = "timestamp:\(row.subject)"
            do {
                let alg = DigestAlgorithm(rawValue: row.algorithm) ?? .sha256
                if let size = row.subject.checkpointSize {
                    let note = try ledger.checkpoint(size: size)?.note ?? ""
                    if Hashing.digest(alg, Array(note.utf8)) != row.digest {
                        throw EvidenceError.verification(zh: "时间戳所覆盖的摘要与检查点 \(size) 不符", en: "the time-stamped digest is not that of checkpoint \(size)")
                    }
                }
                let resp = try POSIXFile.readAll(objects.path(forSHA256: token))
                if Hex.encode(Hashing.sha256(resp)) != token {
                    throw EvidenceError(.verification, zh: "时间戳令牌文件已被改动", en: "the stored token file was altered")
                }
                _ = try TimeStamp.verify(response: resp, digest: row.digest, algorithm: alg, request: nil,
                                         trustedPEM: try POSIXFile.readText(tsa.caPath))
            } catch let e as EvidenceError {
                tsOK = false
                fail(label, "timestamp", "a valid RFC 3161 token from \(row.tsaURL)", "invalid", zh: "\(row.subject) 的时间戳：\(e.zh)", en: "\(row.subject): timestamp: \(e.en)")
            }
        }
        report.checks.append(VerifyCheck(name: "timestamps", ok: tsOK, count: granted, seconds: Date().timeIntervalSince(t0),
                                         detail: "RFC 3161 tokens: signature, chain to the configured TSA roots, imprint; \(pendingCount) pending, \(skipped) from TSAs not in node.json skipped"))

        // 6. Objects: every artifact re-hashed with SHA-256 and SM3.
        if checkObjects {
            t0 = Date()
            var objOK = true
            var bytes: Int64 = 0
            var n: Int64 = 0
            var absent = 0
            for (sha, (a, id)) in artifactsBySHA.sorted(by: { $0.key < $1.key }) {
                n += 1
                progress("objects", n, Int64(artifactsBySHA.count))
                if absentObjectsAllowed && !POSIXFile.exists(objects.path(forSHA256: sha)) {
                    absent += 1
                    continue
                }
                do {
                    let r = try objects.rehash(sha256: sha)
                    bytes += r.size
                    if Hex.encode(r.sha256) != sha {
                        objOK = false
                        fail(id, "sha256", sha, Hex.encode(r.sha256), zh: "\(id)：文件 \(a.name) 的 SHA-256 不符，证据文件已被改动",
                             en: "\(id): artifact \(a.name): SHA-256 mismatch, the stored object was altered")
                    }
                    if Hex.encode(r.sm3) != a.sm3 {
                        objOK = false
                        fail(id, "sm3", a.sm3, Hex.encode(r.sm3), zh: "\(id)：文件 \(a.name) 的 SM3 不符", en: "\(id): artifact \(a.name): SM3 mismatch")
                    }
                    if r.size != a.size {
                        objOK = false
                        fail(id, "size", String(a.size), String(r.size), zh: "\(id)：文件 \(a.name) 的大小不符", en: "\(id): artifact \(a.name): size mismatch")
                    }
                } catch let e as EvidenceError {
                    objOK = false
                    fail(id, "object", sha, "unreadable", zh: "\(id)：文件 \(a.name) 缺失或不可读：\(e.zh)", en: "\(id): artifact \(a.name) is missing or unreadable: \(e.en)")
                }
            }
            report.checks.append(VerifyCheck(name: "objects", ok: objOK, count: n, seconds: Date().timeIntervalSince(t0),
                                             detail: "\(bytes) bytes re-hashed with SHA-256 and SM3" + (absent > 0 ? "; \(absent) left at the node" : "")))
        }
        report.failures = failures
        return report
        }
    }

    /// Name the first field whose column differs from what the canonical body says (the body read
    /// with the strict reader).
    static func firstDifference(_ e: LedgerEntry) -> (String, String, String) {
        guard let obj = try? MiniJSON.parse(e.body), case .object = obj else {
            return ("body", "canonical JSON", "unparseable")
        }
        func text(_ v: MiniJSON?) -> String {
            switch v {
            case .string(let s)?: return s
            case .int(let i)?: return String(i)
            case nil: return "(none)"
            case let other?: return "\(other)"
            }
        }
        let columns: [(String, String)] = [
            ("case", e.caseID), ("id", e.evidenceID), ("index", String(e.index)), ("kind", e.kind), ("method", e.method),
            ("node", e.node), ("note", e.note ?? "(none)"), ("officer", e.officer), ("prev", Hex.encode(e.prevHash)),
            ("time", e.time), ("format", LedgerEntry.format),
        ]
        for (k, v) in columns {
            let encoded = text(obj[k])
            if encoded != v { return (k, encoded, v) }
        }
        let encodedArtifacts = obj["artifacts"]?.array ?? []
        for (i, a) in e.artifacts.enumerated() {
            let enc = i < encodedArtifacts.count ? encodedArtifacts[i] : MiniJSON.object([])
            for (k, v) in [("name", a.name), ("sha256", a.sha256), ("size", String(a.size)), ("sm3", a.sm3)] {
                let ev = text(enc[k])
                if ev != v { return ("artifacts[\(i)].\(k)", ev, v) }
            }
        }
        if encodedArtifacts.count != e.artifacts.count {
            return ("artifacts", "\(encodedArtifacts.count) artifacts", "\(e.artifacts.count) artifacts")
        }
        return ("body", "canonical encoding", "non-canonical bytes")
    }

    static func buildLevels(_ leaves: HashLevel, hasher: MerkleHasher) -> [HashLevel] {
        var levels = [leaves]
        while levels[levels.count - 1].count >= 2 {
            let below = levels[levels.count - 1]
            var up = HashLevel(capacity: below.count / 2)
            for i in 0..<(below.count / 2) { up.append(hasher.node(below[2 * i], below[2 * i + 1])) }
            levels.append(up)
        }
        return levels
    }

    static func expectedNodeIDs(_ levels: [HashLevel]) -> [Int64] {
        var ids: [Int64] = []
        for level in 1..<max(levels.count, 1) {
            for i in 0..<levels[level].count { ids.append(TreeNodeID.make(level: level, index: Int64(i))) }
        }
        return ids
    }
}
