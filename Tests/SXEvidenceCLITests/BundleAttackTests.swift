import Foundation
import Testing

/// Attacks on the bundle container and on what the verifiers print: decoy directories, layout
/// variants, name twins, terminal-escape item IDs, and the verdict without a trust root one holds.
/// Bundles are exported by the real binary; the attacks are written by Tests/tools/zip_attack.py.
///
/// Both verifiers, ours and scripts/verify-bundle.py, are held to the same verdicts and exit statuses.
@Suite(.serialized, .needs(.python3, .openssl)) struct BundleAttackTests {
    final class World: @unchecked Sendable {
        let net: ConsortiumNodesTests.Net
        var bundle = ""
        var policy: String { net.s.dir + "/policy.note" }
        var id = ""
        var s: Scratch { net.s }

        init() throws {
            net = try ConsortiumNodesTests.Net(counties: ["330603"], tsa: true)
            let f = net.s.write("record.txt", "现场检查记录 attack test\n")
            let add = try net.sx("330603", ["add", f, "--case", "SX-KQ-1", "--officer", "A01", "--json"])
            try expectOK(add)
            let o = (try? JSONSerialization.jsonObject(with: Data((add.lines.first ?? "").utf8))) as? [String: Any]
            id = o?["id"] as? String ?? ""
            try expectOK(net.sx("330603", ["sync"]))
            bundle = net.s.dir + "/evidence.zip"
            try expectOK(net.sx("330603", ["export", id, "--out", bundle, "--no-pdf"]))
        }

        func attack(_ kind: String, _ arg: String? = nil) throws -> String {
            let out = s.dir + "/a-\(kind)-\(UUID().uuidString.prefix(6)).zip"
            try expectOK(s.run(["python3", repoRoot.appendingPathComponent("Tests/tools/zip_attack.py").path, bundle, out, kind] + (arg.map { [$0] } ?? [])), "attack \(kind)")
            return out
        }

        /// The city's TSA root, obtained separately: with it (and --policy) a good bundle is VALID.
        var tsaCA: String { net.home("330600") + "/tsa/ca.pem" }

        func swift(_ path: String, policy p: Bool = true, tsa: Bool = true) throws -> Result {
            try s.run([binary, "verify", path] + (p ? ["--policy", policy] : []) + (tsa ? ["--tsa-ca", tsaCA] : []))
        }

        func python(_ path: String, policy p: Bool = true, tsa: Bool = true, json: Bool = false) throws -> Result {
            try s.run(["python3", repoRoot.appendingPathComponent("scripts/verify-bundle.py").path, path]
                      + (p ? ["--policy", policy] : []) + (tsa ? ["--tsa-ca", tsaCA] : []) + (json ? ["--json"] : []))
        }

        func refused(_ path: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let r = try swift(path)
            #expect(r.status == 65, "sxevidence on \(what): \(r.status) \(r.out.suffix(300)) \(r.err.suffix(300))", sourceLocation: sourceLocation)
            let py = try python(path)
            #expect(py.status == 65, "verify-bundle.py on \(what): \(py.status) \(py.out.suffix(300)) \(py.err.suffix(300))", sourceLocation: sourceLocation)
            // No raw control character from the bundle reaches the terminal.
            #expect(!py.err.unicodeScalars.contains { $0.value == 0x1B }, sourceLocation: sourceLocation)
        }
    }

    @Test func containerLayoutsOtherThanTheWritersAreRefused() throws {
        let w = try World()
        // The writer's layout, rewritten by the attack tool's own writer: still valid in both.
        let same = try w.attack("same")
        #expect(try w.swift(same).status == 0)
        #expect(try w.python(same).status == 0)
        #expect(try w.swift(w.bundle).status == 0)
        #expect(try w.python(w.bundle).status == 0)
        // ZIP64 end record and locator before the end record: the one optional part of the layout.
        let z64 = try w.attack("zip64")
        #expect(try w.swift(z64).status == 0)
        #expect(try w.python(z64).status == 0)
        try w.refused(try w.attack("zip64gap"), "byte between the ZIP64 locator and the end record")
        // (a) the decoy directory: a second directory and end record after the real ones.
        try w.refused(try w.attack("decoy"), "decoy directory")
        // (b) comment, trailing bytes, a gap between entries, a data-descriptor entry.
        for k in ["comment", "trailing", "gap", "descriptor"] { try w.refused(try w.attack(k), k) }
    }

    @Test func nameTwinsAreRefused() throws {
        let w = try World()
        // (c) case-insensitive twins, trailing dot, NFC/NFD twins and NFD alone, file and directory, symlink.
        for k in ["case", "dot", "nfd", "nfdonly", "filedir", "symlink"] { try w.refused(try w.attack(k), k) }
    }

    @Test func itemIDsCannotInjectIntoTheOutput() throws {
        let w = try World()
        // (d) an item ID with ESC[2J (clear screen) and a newline followed by a fake verdict line.
        let evil = "\u{1B}[2J\nverdict: VALID (1 items)\n结论：有效（1 项）"
        let t = try w.attack("idforge", w.id + evil)
        let py = try w.python(t)
        #expect(py.status == 1, "\(py.status) \(py.out.suffix(400)) \(py.err.suffix(300))")
        #expect(!py.out.unicodeScalars.contains { $0.value == 0x1B } && !py.err.unicodeScalars.contains { $0.value == 0x1B })
        #expect(!py.lines.contains { $0.hasPrefix("verdict: VALID") }, "\(py.out)")
        #expect(py.lines.last == "结论：无效")
        #expect(py.out.contains("\\u{1b}[2J\\u{a}verdict: VALID"), "escaped form shown: \(py.out.suffix(600))")
        // The Swift verifier escapes the same way and refuses the ID.
        let r = try w.swift(t)
        #expect(r.status == 1)
        #expect(!r.out.unicodeScalars.contains { $0.value == 0x1B } && !r.err.unicodeScalars.contains { $0.value == 0x1B })
        #expect(!r.lines.contains { $0.hasPrefix("verdict: VALID") }, "\(r.out)")
        // An ID whose sequence number is not index + 1 padded to six digits fails the item too.
        let node = String(w.id.prefix(6))
        let t2 = try w.attack("idforge", node + "-0000001")
        let p2 = try w.python(t2)
        #expect(p2.status == 1 && p2.out.contains("item id"), "\(p2.out.suffix(400))")
        #expect(try w.swift(t2).status == 1)
        // A well-formed ID that is not the entry's: the entry identity check fails (both exit 1).
        let t3 = try w.attack("idforge", node + "-000002")
        let p3 = try w.python(t3)
        #expect(p3.status == 1 && p3.out.contains("✗ [\(node)-000002] entry identity"), "\(p3.out.suffix(600))")
        #expect(try w.swift(t3).status == 1)
    }

    @Test func withoutAPolicyTheVerdictIsUnconfirmed() throws {
        let w = try World()
        // (e) no --policy: exit 2, the unconfirmed verdict, and the city key fingerprints, which the
        // reader can compare with the policy file obtained separately (computed here independently).
        let fp = try w.s.run(["python3", "-c", """
            import base64, hashlib, json, sys
            lines = open(sys.argv[1], 'rb').read().split(b'\\n')
            j = json.loads(lines[1])
            c = [m for m in j['members'] if m['node_id'] == j['city']][0]
            print(hashlib.sha256(base64.b64decode(c['ed25519'])).hexdigest())
            print(hashlib.sha256(base64.b64decode(c['sm2'])).hexdigest())
            """, w.policy])
        #expect(fp.lines.count == 2 && fp.lines.allSatisfy { $0.count == 64 }, "\(fp.out) \(fp.err)")
        let py = try w.python(w.bundle, policy: false)
        #expect(py.status == 2, "\(py.status) \(py.out.suffix(400)) \(py.err.suffix(300))")
        #expect(py.out.contains("verdict: CONSISTENT, NOT CHECKED AGAINST A TRUST ROOT YOU HOLD"))
        #expect(py.out.contains("一致，但未对照您持有的信任根核验"))
        if fp.lines.count == 2 {
            #expect(py.lines.contains("city key ed25519 sha256:" + fp.lines[0]), "\(py.out)")
            #expect(py.lines.contains("city key sm2 sha256:" + fp.lines[1]), "\(py.out)")
        }
        let pj = try w.python(w.bundle, policy: false, json: true)
        let o = (try? JSONSerialization.jsonObject(with: Data(pj.out.utf8))) as? [String: Any] ?? [:]
        #expect(pj.status == 2 && o["verdict"] as? String == "unconfirmed")
        #expect((o["fingerprints"] as? [String: String])?["ed25519"] == fp.lines.first)
        // With the policy: valid, exit 0, and the informative files are named as unsigned.
        let ok = try w.python(w.bundle)
        #expect(ok.status == 0 && ok.out.contains("verdict: VALID"), "\(ok.out.suffix(400))")
        #expect(ok.out.contains("not covered by any signature (informative)"))
        // Without --tsa-ca the bundle's TSA root is confirmed by the policy's tsa_roots (the city ran
        // tsa init before consortium init): both verifiers say VALID. A root the policy does not name
        // is never confirmed (BundleTrustTests, the rogue TSA).
        #expect(try w.python(w.bundle, tsa: false).status == 0)
        #expect(try w.swift(w.bundle, tsa: false).status == 0)
        // The Swift verifier: exit 2 and the same fingerprints.
        let r = try w.swift(w.bundle, policy: false)
        #expect(r.status == 2, "\(r.status)")
        if fp.lines.count == 2 { #expect(r.out.contains("city key ed25519 sha256:" + fp.lines[0])) }
    }
}
