import Foundation
import Testing

@Suite struct ProofTests {
    /// Inclusion proofs printed by the CLI pass an independent Python/openssl checker at several sizes.
    @Test func inclusionProofsCheckIndependently() throws {
        let s = Scratch("proof")
        try s.initNode()
        var ids: [String] = []
        for round in 0..<4 {
            let files = (0..<(round * 3 + 1)).map { s.write("r\(round)-\($0)", "round \(round) file \($0)") }
            let r = try s.sx(["add"] + files + ["--case", "C", "--officer", "A"])
            ids += r.lines.map { String($0.prefix(13)) }
        }
        let sizes = [1, 5, 12, 22]
        let checker = repoRoot.appendingPathComponent("Tests/tools/check_tlog_proof.py").path
        for id in [ids[0], ids[3], ids[11], ids[21]] {
            let show = try s.sx(["show", id, "--json"]).json as! [String: Any]
            let body = Data(base64Encoded: show["canonical_base64"] as! String)!
            let bodyPath = s.dir + "/body"
            try? (body).write(to: URL(fileURLWithPath: bodyPath))
            for size in sizes where size > (show["index"] as! Int) {
                let p = try s.sx(["proof", "inclusion", id, "--size", String(size)])
                #expect(p.status == 0)
                let proofPath = s.write("p.tlog-proof", p.out)
                let c = try s.run(["python3", checker, proofPath, bodyPath, s.home + "/keys/ed25519.pub.pem", s.home + "/keys/sm2.pub.pem"])
                #expect(c.out.hasPrefix("OK"), "\(id) at \(size): \(c.out) \(c.err)")
                // A different entry's bytes must not pass with this proof.
                var wrong = body
                wrong[wrong.count - 3] ^= 1
                try? (wrong).write(to: URL(fileURLWithPath: bodyPath + ".x"))
                let c2 = try s.run(["python3", checker, proofPath, bodyPath + ".x", s.home + "/keys/ed25519.pub.pem", s.home + "/keys/sm2.pub.pem"])
                #expect(c2.status == 1)
            }
        }
        let cons = try s.sx(["proof", "consistency", "5", "22", "--json"]).json as! [String: Any]
        #expect((cons["hashes"] as! [String]).count >= 1)
    }

    /// Leaf hashes equal SHA-256(0x00 || canonical bytes) computed outside, and the chain links them.
    @Test func showJSONAgreesWithOutsideHashing() throws {
        let s = Scratch("show")
        try s.initNode()
        _ = try s.sx(["add", s.write("x", "x"), s.write("y", "y"), "--case", "C", "--officer", "A"])
        var prev = String(repeating: "0", count: 64)
        for id in ["330603-000001", "330603-000002"] {
            let j = try s.sx(["show", id, "--json"]).json as! [String: Any]
            let script = "import sys,hashlib,base64; print(hashlib.sha256(b'\\x00'+base64.b64decode(sys.argv[1])).hexdigest())"
            let h = try s.run(["python3", "-c", script, j["canonical_base64"] as! String]).out.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(h == j["leaf_hash"] as! String)
            #expect(j["prev_hash"] as! String == prev)
            prev = h
        }
    }
}
