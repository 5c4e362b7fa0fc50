import Foundation
import Testing

@Suite(.needs(.python3, .openssl)) struct ProofTests {
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
            let show = try #require(try s.sx(["show", id, "--json"]).json as? [String: Any])
            let canonical = try #require(show["canonical_base64"] as? String)
            let body = try #require(Data(base64Encoded: canonical))
            let bodyPath = s.dir + "/body"
            try? (body).write(to: URL(fileURLWithPath: bodyPath))
            let index = try #require(show["index"] as? Int)
            for size in sizes where size > index {
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
    }

    static let consistencyTool = repoRoot.appendingPathComponent("Tests/tools/verify_consistency.py").path

    /// Consistency proofs printed by the CLI (text and --json) pass the independent Python verifier, which
    /// computes both roots from the entries' bytes, checks the checkpoint's signatures with openssl and
    /// the proof by RFC 9162 §2.1.4.2; tampered proofs and other entries fail it.
    @Test func consistencyProofsCheckIndependently() throws {
        let s = Scratch("cons")
        try s.initNode()
        for round in 0..<4 {   // checkpoints at 1, 5, 12 and 22 entries
            let files = (0..<(round * 3 + 1)).map { s.write("r\(round)-\($0)", "round \(round) file \($0)") }
            try #require(try s.sx(["add"] + files + ["--case", "C", "--officer", "A"]).status == 0)
        }
        let ids = try s.ledgerIDs()
        try #require(ids.count == 22)
        var bodies: [String] = []
        for id in ids {
            let show = try #require(try s.sx(["show", id, "--json"]).json as? [String: Any])
            bodies.append(try #require(show["canonical_base64"] as? String))
        }
        let bodiesPath = s.write("bodies.b64", bodies.joined(separator: "\n") + "\n")
        let keys = [s.home + "/keys/ed25519.pub.pem", s.home + "/keys/sm2.pub.pem"]
        func check(_ proof: String, json: String? = nil, bodies path: String = bodiesPath) throws -> Result {
            let proofPath = s.write("c.proof", proof)
            let jsonArgs = json.map { ["--json", s.write("c.json", $0)] } ?? []
            return try s.run(["python3", Self.consistencyTool, proofPath, path] + keys + jsonArgs)
        }
        // m = n, m = 1, m a power of two, and others; n is a signed checkpoint size.
        let pairs = [(1, 1), (5, 5), (22, 22), (1, 5), (1, 22), (2, 5), (4, 12), (8, 22), (16, 22), (3, 5), (5, 22), (7, 12), (12, 22), (21, 22)]
        for (m, n) in pairs {
            let text = try s.sx(["proof", "consistency", String(m), String(n)])
            try #require(text.status == 0, "proof consistency \(m) \(n): \(text.err)")
            let json = try s.sx(["proof", "consistency", String(m), String(n), "--json"])
            try #require(json.status == 0, "proof consistency \(m) \(n) --json: \(json.err)")
            let c = try check(text.out, json: json.out)
            #expect(c.status == 0 && c.out == "OK\n", "\(m) -> \(n): \(c.out) \(c.err)")
            var lines = text.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let hashCount = try #require(lines.firstIndex(of: "")) - 1
            #expect(hashCount == 0 || m != n, "\(m) -> \(n): \(hashCount) hashes")
            // Tampered: each proof hash with one bit flipped; the last hash dropped; another old size.
            for h in 0..<hashCount {
                var raw = try #require(Data(base64Encoded: lines[1 + h]))
                raw[raw.count / 2] ^= 0x01
                var t = lines
                t[1 + h] = raw.base64EncodedString()
                let r = try check(t.joined(separator: "\n"))
                #expect(r.status == 1 && r.out.hasPrefix("FAIL"), "\(m) -> \(n), hash \(h) flipped: \(r.out)")
            }
            if hashCount > 0 {
                var t = lines
                t.remove(at: hashCount)
                let r = try check(t.joined(separator: "\n"))
                #expect(r.status == 1 && r.out.hasPrefix("FAIL"), "\(m) -> \(n), last hash dropped: \(r.out)")
            }
            lines[0] = "old \(m == n ? m - 1 : m + 1)"
            let claimed = try check(lines.joined(separator: "\n"))
            #expect(claimed.status == 1 && claimed.out.hasPrefix("FAIL"), "\(m) -> \(n) claimed as \(lines[0]): \(claimed.out)")
        }
        // A proof between the roots of other entries than the ledger's: the checkpoint's root is not theirs.
        var other = bodies
        var first = try #require(Data(base64Encoded: other[0]))
        first[first.count - 3] ^= 0x01
        other[0] = first.base64EncodedString()
        let otherPath = s.write("other.b64", other.joined(separator: "\n") + "\n")
        let good = try s.sx(["proof", "consistency", "5", "22"]).out
        let r = try check(good, bodies: otherPath)
        #expect(r.status == 1 && r.out.hasPrefix("FAIL"), "\(r.out)")
    }

    /// The Python verifier itself agrees with every public RFC 6962 consistency vector (so it is a
    /// verifier that can refuse, not one that accepts anything).
    @Test func consistencyVerifierAgreesWithVectors() throws {
        let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/vectors/merkle")
        let dir = FileManager.default.fileExists(atPath: shared.path + "/testdata") ? shared : repoRoot.appendingPathComponent("fixtures/vectors/merkle")
        let r = try Scratch("vectors").run(["python3", Self.consistencyTool, "--vectors", dir.path])
        #expect(r.status == 0 && r.out.hasPrefix("OK "), "\(r.out) \(r.err)")
        let count = Int(r.out.dropFirst(3).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(count >= 90, "\(r.out)")
    }

    /// Leaf hashes equal SHA-256(0x00 || canonical bytes) computed outside, and the chain links them.
    @Test func showJSONAgreesWithOutsideHashing() throws {
        let s = Scratch("show")
        try s.initNode()
        _ = try s.sx(["add", s.write("x", "x"), s.write("y", "y"), "--case", "C", "--officer", "A"])
        var prev = String(repeating: "0", count: 64)
        for id in ["330603-000001", "330603-000002"] {
            let j = try #require(try s.sx(["show", id, "--json"]).json as? [String: Any])
            let canonical = try #require(j["canonical_base64"] as? String)
            let script = "import sys,hashlib,base64; print(hashlib.sha256(b'\\x00'+base64.b64decode(sys.argv[1])).hexdigest())"
            let h = try s.run(["python3", "-c", script, canonical]).out.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(h.count == 64 && h == j["leaf_hash"] as? String)
            #expect(j["prev_hash"] as? String == prev)
            prev = h
        }
    }
}
