import Foundation
import Testing

/// Trust roots of a court bundle (sxevidence-bundle(5), VERDICT): without a policy held separately a
/// bundle is never VALID, and time stamps from a TSA whose root only the bundle supplies are never
/// confirmed, even when they verify against that root.
@Suite(.serialized, .needs(.python3, .openssl, .unzip, .venvPython)) struct BundleTrustTests {
    @Test func noPolicyAndRogueTSAAreNotValid() throws {
        let w = try BundleTests.World()
        let s = w.net.s
        // 1. No --policy: consistent, exit 2, with the city key fingerprints printed.
        let alone = try s.run([binary, "verify", w.bundle, "--json"])
        #expect(alone.status == 2, "\(alone.status) \(alone.err)")
        let o = alone.json as? [String: Any] ?? [:]
        #expect(o["verdict"] as? String == "unconfirmed")
        // The fingerprint, computed independently from the policy file with Python.
        let fp = try s.run(["python3", "-c", """
            import base64, hashlib, json, sys
            p = json.loads(open(sys.argv[1], encoding='utf-8').read().split('\\n')[1])
            c = [m for m in p['members'] if m['node_id'] == p['city']][0]
            print(hashlib.sha256(base64.b64decode(c['ed25519'])).hexdigest())
            """, w.policy]).out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect((o["fingerprints"] as? [String: String])?["ed25519"] == fp, "\(o["fingerprints"] ?? "") vs \(fp)")
        let text = try s.run([binary, "verify", w.bundle])
        #expect(text.status == 2 && text.out.contains("city key ed25519 sha256:\(fp)") && text.out.contains("NOT CHECKED AGAINST A TRUST ROOT YOU HOLD"), "\(text.out)")
        #expect(try s.run([binary, "verify", w.bundle, "--policy", w.policy]).status == 0)

        // 2. A rogue TSA named like the city's stamps the same checkpoint; its root goes in the bundle.
        let idx = try JSONSerialization.jsonObject(with: Data(s.run(["unzip", "-p", w.bundle, "bundle.json"]).out.utf8)) as? [String: Any]
        let item = ((idx?["items"] as? [[String: Any]]) ?? []).first { $0["id"] as? String == w.webID } ?? [:]
        let stamp = try #require((item["timestamps"] as? [[String: Any]])?.first { $0["algorithm"] as? String == "sha256" })
        let proof = try s.run(["unzip", "-p", w.bundle, item["timestamped_proof"] as? String ?? item["proof"] as? String ?? ""]).out
        let note = String(proof[proof.range(of: "\n\n")!.upperBound...])
        let plain = note.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("— sxevidence.shaoxing/330600 ") }.joined(separator: "\n")
        let notePath = s.write("stamped.note", plain)
        let dir = s.dir + "/rogue"
        let gen = """
        set -e
        sh '\(makePKI)' '\(dir)' tsa '/C=CN/O=绍兴市市场监管局/CN=绍兴市市场监管局 330600 Node CA' '/C=CN/O=绍兴市市场监管局/CN=绍兴市市场监管局 330600 TSA'
        cd '\(dir)'
        openssl ts -query -data '\(notePath)' -sha256 -cert -out q.tsq
        openssl ts -reply -config tsa.cnf -queryfile q.tsq -signer tsa.pem -inkey tsa.key -out r.tsr 2>/dev/null
        openssl ts -verify -data '\(notePath)' -in r.tsr -CAfile ca.pem >/dev/null
        """
        try expectOK(s.run(["sh", "-c", gen]), "rogue TSA")
        let tool = repoRoot.appendingPathComponent("Tests/tools/tamper_bundle.py").path
        let step1 = s.dir + "/rogue1.zip", forged = s.dir + "/rogue.zip"
        try expectOK(s.run(["python3", tool, w.bundle, step1, stamp["token"] as? String ?? "", "replace", dir + "/r.tsr", "--refresh"]))
        try expectOK(s.run(["python3", tool, step1, forged, stamp["tsa_roots"] as? String ?? "", "replace", dir + "/ca.pem", "--refresh"]))
        // With the real policy: the rogue token verifies against the bundle's root, but that root is
        // not named in the policy held, so the verdict is not VALID (and the other items' tokens,
        // signed by the real TSA, no longer verify against the rogue root: INVALID, exit 1).
        let r = try s.run([binary, "verify", forged, "--policy", w.policy, "--json"])
        #expect(r.status == 1, "a rogue TSA's token: exit \(r.status), not INVALID: \(r.out.suffix(800))")
        let checks = (r.json as? [String: Any])?["checks"] as? [[String: Any]] ?? []
        let rogue = try #require(checks.first { $0["item"] as? String == w.webID && $0["check"] as? String == "time stamp sha256" }, "\(checks)")
        // It verifies (against the root the bundle brought) and is marked unconfirmed: never confirmed.
        #expect(rogue["ok"] as? Bool == true && rogue["unconfirmed"] as? Bool == true, "the rogue token: \(rogue)")
        // The real TSA's SM3 token of the same item no longer verifies against the rogue root.
        let sm3 = try #require(checks.first { $0["item"] as? String == w.webID && $0["check"] as? String == "time stamp sm3" }, "\(checks)")
        #expect(sm3["ok"] as? Bool == false, "\(sm3)")
        // Given the real TSA root separately, the rogue token fails outright.
        let withCA = try s.run([binary, "verify", forged, "--policy", w.policy, "--tsa-ca", w.net.home("330600") + "/tsa/ca.pem"])
        #expect(withCA.status == 1, "\(withCA.status) \(withCA.out.suffix(400))")
    }

    /// An item ID carrying terminal escapes and a fake verdict line: refused by its form, and printed
    /// escaped, so the terminal shows what was computed.
    @Test func escapesInAnIDCannotFakeAVerdict() throws {
        let w = try BundleTests.World()
        let s = w.net.s
        let tool = repoRoot.appendingPathComponent("Tests/tools/tamper_bundle.py").path
        let forged = s.dir + "/esc.zip"
        try expectOK(s.run(["python3", tool, w.bundle, forged, "bundle.json", "sub", "\"id\":\"\(w.fileID)\"",
                            "\"id\":\"\(w.fileID)\\u001b[2J\\u001b[H\\n✓ [bundle] all: fine\\nverdict: VALID (2 items)\\u202e\""]))
        let r = try s.run([binary, "verify", forged, "--policy", w.policy])
        #expect(r.status == 1, "\(r.status)")
        #expect(!r.out.utf8.contains(0x1B) && !r.out.unicodeScalars.contains("\u{202E}"), "raw escapes reached the terminal")
        #expect(!r.out.split(separator: "\n").contains { $0.hasPrefix("verdict: VALID") }, "a fake verdict line was printed: \(r.out)")
        #expect(r.out.contains("\\u{1b}[2J") && r.out.contains("evidence ID"), "\(r.out)")
        let py = try s.run(["python3", repoRoot.appendingPathComponent("scripts/verify-bundle.py").path, forged, "--policy", w.policy])
        #expect(py.status == 1 && !py.out.utf8.contains(0x1B) && !py.out.split(separator: "\n").contains { $0.hasPrefix("verdict: VALID") },
                "verify-bundle.py: \(py.status) \(py.out.suffix(500))")
    }
}
