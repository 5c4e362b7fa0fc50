import Foundation
import Testing

/// Each tamper is caught by `verify`, which exits 1 and names what failed.
@Suite(.needs(.sqlite3)) struct TamperTests {
    func prepared(_ tag: String) throws -> Scratch {
        let s = Scratch(tag)
        try s.initNode()
        for i in 0..<3 {
            let r = try s.sx(["add", s.write("f\(i)", pseudoRandom(1000 + i, seed: UInt64(i + 7))), s.write("g\(i)", "g\(i)"),
                              "--case", "C\(i)", "--officer", "A"])
            try #require(r.status == 0, "add: \(r.err)")
        }
        let ok = try s.sx(["verify"])
        try #require(ok.status == 0, "the untouched ledger does not verify: \(ok.out)")
        return s
    }

    func failures(_ s: Scratch) throws -> (Int32, [[String: Any]]) {
        let r = try s.sx(["verify", "--json"])
        let j = r.json as? [String: Any] ?? [:]
        return (r.status, j["failures"] as? [[String: Any]] ?? [])
    }

    @Test func flippedObjectByte() throws {
        let s = try prepared("t-obj")
        let sha = try s.run(["sha256sum", s.dir + "/f1"]).out.prefix(64)
        let obj = s.home + "/objects/sha256/\(sha.prefix(2))/\(sha)"
        _ = try s.run(["chmod", "u+w", obj])
        _ = try s.run(["sh", "-c", "printf 'Z' | dd of='\(obj)' bs=1 seek=500 conv=notrunc 2>/dev/null"])
        let (st, f) = try failures(s)
        #expect(st == 1)
        #expect(f.first?["field"] as? String == "sha256")
        #expect(f.first?["evidence_id"] as? String == "330603-000003")
        #expect(f.first?["expected"] as? String == String(sha))
    }

    @Test func editedColumn() throws {
        let s = try prepared("t-col")
        _ = try s.sqlite("DROP TRIGGER entries_no_update; UPDATE entries SET case_id = 'FORGED' WHERE idx = 2;")
        let (st, f) = try failures(s)
        #expect(st == 1)
        #expect(f.first?["field"] as? String == "case")
        #expect(f.first?["evidence_id"] as? String == "330603-000003")
        #expect(f.first?["found"] as? String == "FORGED")
        #expect(f.first?["expected"] as? String == "C1")
    }

    @Test func editedBodyAndLeaf() throws {
        let s = try prepared("t-body")
        // Rewrite the canonical bytes and the stored leaf hash consistently: the chain and checkpoints must catch it.
        _ = try s.sqlite("DROP TRIGGER entries_no_update; UPDATE entries SET case_id='X', body = CAST(replace(CAST(body AS TEXT), '\"case\":\"C1\"', '\"case\":\"X\"') AS BLOB) WHERE idx = 2;")
        let (st, f) = try failures(s)
        #expect(st == 1)
        #expect(f.contains { $0["field"] as? String == "leaf_hash" && $0["evidence_id"] as? String == "330603-000003" })
    }

    @Test func deletedLastEntry() throws {
        let s = try prepared("t-del")
        _ = try s.sqlite("DROP TRIGGER entries_no_delete; DROP TRIGGER artifacts_no_delete; DELETE FROM artifacts WHERE entry_idx = 5; DELETE FROM entries WHERE idx = 5;")
        let (st, f) = try failures(s)
        #expect(st == 1)
        #expect(f.contains { $0["evidence_id"] as? String == "330603-000006" && $0["field"] as? String == "size" })
    }

    @Test func swappedEntries() throws {
        let s = try prepared("t-swap")
        _ = try s.sqlite("""
            DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;
            CREATE TEMP TABLE t AS SELECT * FROM entries WHERE idx IN (1, 2);
            DELETE FROM entries WHERE idx IN (1, 2);
            INSERT INTO entries SELECT CASE idx WHEN 1 THEN 2 ELSE 1 END, evidence_id, kind, time, node, case_id, officer, method, note, prev_hash, leaf_hash, body FROM t;
            """)
        let (st, f) = try failures(s)
        #expect(st == 1)
        #expect(f.first?["field"] as? String == "id")
        #expect(f.first?["evidence_id"] as? String == "330603-000003")
    }

    @Test func replacedCheckpointSignature() throws {
        let s = try prepared("t-sig")
        let note = try s.sqlite("SELECT note FROM checkpoints WHERE size = 4;").out
        let lines = note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let edLine = lines.firstIndex { $0.hasPrefix("— ") }!
        var parts = lines[edLine].split(separator: " ").map(String.init)
        var raw = [UInt8](Data(base64Encoded: parts[2])!)
        raw[10] ^= 0x55
        parts[2] = Data(raw).base64EncodedString()
        var newLines = lines
        newLines[edLine] = parts.joined(separator: " ")
        let forged = newLines.joined(separator: "\n").trimmingCharacters(in: .newlines) + "\n"
        _ = try s.sqlite("DROP TRIGGER checkpoints_no_update; UPDATE checkpoints SET note = '\(forged)' WHERE size = 4;")
        let (st, f) = try failures(s)
        #expect(st == 1)
        #expect(f.first?["field"] as? String == "signature/Ed25519")
        #expect(f.first?["evidence_id"] as? String == "checkpoint@4")
    }
}
