/// The per-entry checks of `verify` over one index range [from, to): index, evidence ID, canonical
/// bytes recomputed from the columns, leaf hash, and the chain inside the range. The link of the
/// range's first entry to the entry before it is left to the caller (`first.prevHash`).
struct EntryPass {
    var leaves: HashLevel
    var failures: [VerifyFailure] = []
    var artifacts: [String: (Artifact, String)] = [:]
    var first: (id: String, prevHash: [UInt8])?

    static func run(store: LedgerStore, from lo: Int64, to hi: Int64, nodeID: String, maxFailures: Int) throws -> EntryPass {
        var pass = EntryPass(leaves: HashLevel(capacity: Int(hi - lo)))
        func fail(_ id: String, _ field: String, _ expected: String, _ found: String, zh: String, en: String) {
            if pass.failures.count < maxFailures {
                pass.failures.append(VerifyFailure(evidenceID: id, field: field, expected: expected, found: found, zh: zh, en: en))
            }
        }
        let hasher = MerkleHasher()
        var expectedIndex = lo
        var prev: [UInt8]?
        try store.entries.scan(from: lo, to: hi) { e in
            let id = e.evidenceID
            if pass.first == nil { pass.first = (id, e.prevHash) }
            if e.index != expectedIndex {
                fail(id, "index", String(expectedIndex), String(e.index),
                     zh: "第 \(expectedIndex) 条缺失（下一条是 \(e.index)）", en: "entry \(expectedIndex) is missing (next present is \(e.index))")
                expectedIndex = e.index
            }
            let wantID = LedgerEntry.evidenceID(node: nodeID, index: e.index)
            if id != wantID {
                fail(id, "id", wantID, id, zh: "第 \(e.index) 条的证据编号应为 \(wantID)，实为 \(id)",
                     en: "entry at index \(e.index) should have evidence ID \(wantID), found \(id)")
            }
            if e.recomputedBody != e.body {
                let (field, signed, column) = LedgerVerifier.firstDifference(e)
                fail(id, field, signed, column, zh: "\(id)：字段 \(field) 与规范编码不符：编码中为 \(signed)，数据库列为 \(column)",
                     en: "\(id): field \(field) does not match its canonical encoding: encoded \(signed), column \(column)")
            }
            let leaf = hasher.leaf(e.body)
            if leaf != e.leafHash {
                fail(id, "leaf_hash", Hex.encode(leaf), Hex.encode(e.leafHash),
                     zh: "\(id)：叶哈希不符", en: "\(id): leaf hash does not match SHA-256(0x00 || canonical bytes)")
            }
            if let prev, e.prevHash != prev {
                fail(id, "prev", Hex.encode(prev), Hex.encode(e.prevHash),
                     zh: "\(id)：哈希链断裂（prev 不等于前一条的叶哈希）", en: "\(id): hash chain broken (prev is not the previous entry's leaf hash)")
            }
            prev = leaf
            pass.leaves.append(leaf)
            for a in e.artifacts where pass.artifacts[a.sha256] == nil { pass.artifacts[a.sha256] = (a, id) }
            expectedIndex += 1
        }
        return pass
    }
}
