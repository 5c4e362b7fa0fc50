import Foundation
import Testing
@testable import SXEvidenceCore

@Suite struct LedgerTests {
    static func newHome(_ tag: String) throws -> NodeHome {
        let cfg = NodeConfig(nodeID: "330603", name: "柯桥区市场监管局", role: .county,
                             origin: NodeConfig.defaultOrigin(nodeID: "330603"), created: UTCTime.now())
        return try NodeHome.create(at: tempDir(tag) + "/home", config: cfg)
    }

    static func draft(_ i: Int) -> EntryDraft {
        EntryDraft(kind: .file, caseID: "C\(i % 3)", officer: "A01", method: "test", note: i % 2 == 0 ? nil : "n\(i)",
                   artifacts: [Artifact(name: "f\(i)", size: Int64(i), sha256: String(repeating: "a", count: 64), sm3: String(repeating: "b", count: 64))])
    }

    /// Proofs read from the stored tree verify against signed checkpoints at every size, across many appends.
    @Test func storedTreeProofs() throws {
        let home = try Self.newHome("tree")
        let keys = try home.loadKeys()
        var sizes: [Int64] = []
        var i = 0
        for batch in [1, 1, 2, 3, 5, 8, 13, 21, 34, 1, 40] {
            let (_, cp) = try home.ledger.append((0..<batch).map { _ in defer { i += 1 }; return Self.draft(i) }, sign: keys.sign)
            sizes.append(cp.size)
        }
        let n = try home.ledger.size()
        #expect(n == 129)
        let leaves = try (0..<n).map { try home.ledger.entry(index: $0)!.leafHash }
        for s in sizes {
            let cp = try home.ledger.checkpoint(size: s)!
            for m in stride(from: Int64(0), to: s, by: 7) {
                let p = try home.ledger.inclusionProof(index: m, size: s)
                #expect(MerkleVerifier.verifyInclusion(leafIndex: m, treeSize: s, leafHash: leaves[Int(m)], proof: p, root: cp.root))
            }
        }
        for (a, b) in zip(sizes, sizes.dropFirst()) {
            let p = try home.ledger.consistencyProof(from: a, to: b)
            #expect(MerkleVerifier.verifyConsistency(size1: a, size2: b, root1: try home.ledger.checkpoint(size: a)!.root,
                                                     root2: try home.ledger.checkpoint(size: b)!.root, proof: p))
        }
        var verifier = LedgerVerifier(home: home)
        verifier.checkObjects = false
        let report = try verifier.run()
        #expect(report.ok, "\(report.failures.map(\.en))")
        // Chain: every prev is the previous leaf hash, and the first is all zeros.
        #expect(try home.ledger.entry(index: 0)!.prevHash == LedgerEntry.zeroHash)
        for k in 1..<Int(n) { #expect(try home.ledger.entry(index: Int64(k))!.prevHash == leaves[k - 1]) }
    }

    @Test func evidenceIDs() {
        #expect(LedgerEntry.evidenceID(node: "330603", index: 41) == "330603-000042")
        #expect(LedgerEntry.evidenceID(node: "330603", index: 1_234_567) == "330603-1234568")
    }

    /// The ledger will not sign a tree that is inconsistent with its latest checkpoint.
    @Test func refusesToSignInconsistentTree() throws {
        let home = try Self.newHome("fork")
        let keys = try home.loadKeys()
        try home.ledger.append([Self.draft(1), Self.draft(2)], sign: keys.sign)
        // Forge history below the ledger's API: change a stored leaf hash so the tree no longer matches.
        try home.ledger.store.db.exec("DROP TRIGGER tree_no_update; UPDATE tree SET hash = zeroblob(32)")
        #expect(throws: EvidenceError.self) { try home.ledger.append([Self.draft(3)], sign: keys.sign) }
        #expect(try home.ledger.size() == 2)
    }

    @Test func triggersRefuseUpdateAndDelete() throws {
        let home = try Self.newHome("trig")
        try home.ledger.append([Self.draft(1), Self.draft(2)], sign: try home.loadKeys().sign)
        for sql in ["UPDATE entries SET case_id = 'x'", "DELETE FROM entries", "DELETE FROM checkpoints",
                    "UPDATE tree SET hash = x'00'", "DELETE FROM artifacts", "UPDATE checkpoints SET note = ''"] {
            #expect(throws: EvidenceError.self, "\(sql)") { try home.ledger.store.db.exec(sql) }
        }
    }

    @Test func initRefusesExistingHome() throws {
        let home = try Self.newHome("reinit")
        #expect(throws: EvidenceError.self) { try NodeHome.create(at: home.path, config: home.config) }
        let attrs = try FileManager.default.attributesOfItem(atPath: home.keysDir + "/ed25519.pem")
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let attrs2 = try FileManager.default.attributesOfItem(atPath: home.keysDir + "/sm2.pem")
        #expect((attrs2[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }
}

/// Ledgers of 20,000 entries or more are verified in two ranges at once: failures in the second
/// range and at the seam between the ranges are still found and named.
@Suite struct SplitVerifyTests {
    @Test func failuresAcrossRanges() throws {
        let home = try LedgerTests.newHome("split")
        let keys = try home.loadKeys()
        let n = 20_010
        var i = 0
        while i < n {
            let k = min(5000, n - i)
            try home.ledger.append((0..<k).map { LedgerTests.draft(i + $0) }, sign: keys.sign)
            i += k
        }
        var v = LedgerVerifier(home: home)
        v.checkObjects = false
        #expect(try v.run().ok)
        let seam = Int64(n / 2)
        try home.ledger.store.db.exec("""
            DROP TRIGGER entries_no_update;
            UPDATE entries SET officer = 'FORGED' WHERE idx = 15000;
            UPDATE entries SET prev_hash = zeroblob(32) WHERE idx = \(seam);
            """)
        let r = try v.run()
        #expect(!r.ok)
        let seamID = LedgerEntry.evidenceID(node: "330603", index: seam)
        #expect(r.failures.contains { $0.evidenceID == seamID && $0.field == "prev" })
        #expect(r.failures.contains { $0.evidenceID == "330603-015001" && $0.field == "officer" && $0.found == "FORGED" })
    }
}

@Suite struct HLSParserTests {
    @Test func malformedValuesAreErrorsNotCrashes() {
        for bad in ["#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-BYTERANGE:\n#EXTINF:1,\na.ts\n",
                    "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-BYTERANGE:0@5\n#EXTINF:1,\na.ts\n",
                    "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI=\"i.mp4\",BYTERANGE=\"\"\n#EXTINF:1,\na.ts\n",
                    "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1e300,\na.ts\n",
                    "#EXTM3U\n#EXT-X-TARGETDURATION:inf\n#EXTINF:1,\na.ts\n",
                    "#EXTM3U\n#EXTINF:1,\na.ts\n", "<html>"] {
            #expect(throws: EvidenceError.self, "\(bad)") { _ = try HLSPlaylist.parse(Array(bad.utf8), base: "http://127.0.0.1/x/p.m3u8") }
        }
    }

    @Test func byteRangesContinueAndURIsResolve() throws {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2,\n#EXT-X-BYTERANGE:100@0\nall.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\n#EXT-X-BYTERANGE:50\nall.ts\n"
        guard case .media(let m) = try HLSPlaylist.parse(Array(text.utf8), base: "http://127.0.0.1/live/p.m3u8") else {
            Issue.record("not a media playlist"); return
        }
        #expect(m.segments.map(\.sequence) == [7, 8])
        #expect(m.segments[1].range == HLSPlaylist.ByteRange(length: 50, offset: 100))
        #expect(m.segments[0].uri == "http://127.0.0.1/live/all.ts")
        #expect(m.segments[1].discontinuity && m.segments[1].discontinuitySequence == 1)
    }
}
