import Foundation
import Testing

/// Court bundles and WACZ: a real city and county, a real capture of the fixture shop, real tokens;
/// checked by our verifier, by outside tools, and against a matrix of one-change-at-a-time forgeries.
@Suite(.serialized, .needs(.python3, .openssl, .unzip, .venvPython)) struct BundleTests {
    final class World: @unchecked Sendable {
        let net: ConsortiumNodesTests.Net
        let shop: ShopServer
        var bundle = ""
        var policy: String { net.s.dir + "/policy.note" }
        var fileID = ""
        var webID = ""

        init() throws {
            net = try ConsortiumNodesTests.Net(counties: ["330603"], tsa: true)
            shop = try ShopServer()
            let ev = repoRoot.appendingPathComponent("fixtures/evidence").path
            let files = try FileManager.default.contentsOfDirectory(atPath: ev).sorted().map { ev + "/" + $0 }
            let add = try net.sx("330603", ["add"] + files + ["--case", "SX-KQ-1", "--officer", "A01", "--json"])
            try expectOK(add)
            func firstID(_ r: Result) -> String {
                guard let l = r.lines.first, let o = try? JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any] else { return "" }
                return o["id"] as? String ?? ""
            }
            fileID = firstID(add)
            let cap = try net.sx("330603", ["capture", shop.url("/go"), "--requisites", "--screenshot", "--case", "SX-KQ-1", "--officer", "A01", "--json"])
            try expectOK(cap)
            webID = firstID(cap)
            try expectOK(net.sx("330603", ["sync"]))
            bundle = net.s.dir + "/evidence.zip"
            try expectOK(net.sx("330603", ["export", fileID, webID, "--out", bundle]))
        }

        /// Both verifiers on one bundle: ours, and scripts/verify-bundle.py (Python + openssl, written from
        /// the man page). They must reach the same verdict; the returned failures are ours.
        func verify(_ path: String, policy p: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> (status: Int32, failed: [String], json: [String: Any]) {
            let pol = (p ?? policy).isEmpty ? [] : ["--policy", p ?? policy]
            let r = try net.s.run([binary, "verify", path, "--json"] + pol)
            let o = r.json as? [String: Any] ?? [:]
            let failed = ((o["checks"] as? [[String: Any]]) ?? []).filter { $0["ok"] as? Bool == false }.map { "\($0["check"] ?? "")" }
            let py = try net.s.run(["python3", repoRoot.appendingPathComponent("scripts/verify-bundle.py").path, path] + pol)
            #expect(py.status == r.status, "verify-bundle.py exit \(py.status) vs sxevidence \(r.status) on \(path): \(py.out.suffix(600)) \(py.err.suffix(400))",
                    sourceLocation: sourceLocation)
            return (r.status, failed + (r.status == 0 || !failed.isEmpty ? [] : [r.err]), o)
        }

        func tamper(_ member: String, _ mode: [String], refresh: Bool = true) throws -> String {
            let out = net.s.dir + "/t-\(UUID().uuidString.prefix(6)).zip"
            try expectOK(net.s.run(["python3", repoRoot.appendingPathComponent("Tests/tools/tamper_bundle.py").path, bundle, out, member] + mode + (refresh ? ["--refresh"] : [])), "tamper \(member)")
            return out
        }

        /// The bundle's members as Python's zipfile lists them (never an empty list by failure).
        func members() throws -> [String] {
            let r = try net.s.run(["python3", "-c", "import zipfile,sys; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))", bundle])
            try #require(r.status == 0 && r.lines.contains("bundle.json"), "zipfile could not list \(bundle): \(r.err)")
            return r.lines
        }
    }

    @Test func bundleVerifiesHereAndWithOutsideTools() throws {
        let w = try World()
        let good = try w.verify(w.bundle)
        #expect(good.status == 0, "\(good.failed) \(((good.json["checks"] as? [[String: Any]]) ?? []).filter { $0["ok"] as? Bool == false })")
        #expect(good.json["trust_roots_confirmed"] as? Bool == true)
        #expect(good.json["items"] as? Int == 2)
        // Python's zipfile reads it and finds every CRC right.
        let z = try w.net.s.run(["python3", "-c", "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(z.testzip()); print(all(i.compress_type==0 for i in z.infolist()))", w.bundle])
        #expect(z.lines == ["None", "True"], "\(z.out) \(z.err)")
        // The time-stamp tokens verify with openssl ts -verify over the checkpoint note without cosignatures.
        let idx = try JSONSerialization.jsonObject(with: Data(w.net.s.run(["unzip", "-p", w.bundle, "bundle.json"]).out.utf8)) as? [String: Any]
        let item = ((idx?["items"] as? [[String: Any]]) ?? []).first { $0["id"] as? String == w.webID } ?? [:]
        let stamps = item["timestamps"] as? [[String: Any]] ?? []
        #expect(stamps.count == 2, "SHA-256 and SM3 tokens")
        let proof = try w.net.s.run(["unzip", "-p", w.bundle, item["proof"] as? String ?? ""]).out
        let note = String(proof[proof.range(of: "\n\n")!.upperBound...])
        let plain = note.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("— sxevidence.shaoxing/330600 ") }.joined(separator: "\n")
        let notePath = w.net.s.write("cp.note", plain)
        for st in stamps where st["algorithm"] as? String == "sha256" {
            let tok = w.net.s.dir + "/tok.tsr", ca = w.net.s.dir + "/ca.pem"
            try w.net.s.run(["sh", "-c", "unzip -p '\(w.bundle)' '\(st["token"]!)' > '\(tok)'; unzip -p '\(w.bundle)' '\(st["tsa_roots"]!)' > '\(ca)'"])
            let v = try w.net.s.run(["openssl", "ts", "-verify", "-data", notePath, "-in", tok, "-CAfile", ca])
            #expect(v.status == 0 && v.out.contains("Verification: OK"), "\(v.out) \(v.err)")
        }
        // The city's own evidence: its log is the anchor, so no cosignature or anchor entry is needed.
        let cityFile = w.net.s.write("city-note.txt", "市局现场检查记录\n")
        let cadd = try w.net.sx("330600", ["add", cityFile, "--case", "SX-SX-1", "--officer", "C01"])
        try expectOK(cadd)
        let cityID = String(cadd.out.split(separator: "\t").first ?? "")
        let cityBundle = w.net.s.dir + "/city.zip"
        try expectOK(w.net.sx("330600", ["export", cityID, "--out", cityBundle, "--no-pdf"]))
        let cv = try w.verify(cityBundle)
        #expect(cv.status == 0, "\(cv.failed)")
        // The evidence certificate, Chinese first, with the capture's facts; with Chromium installed, a
        // thumbnail (the viewport screenshot from the WARC) and a PDF rendering.
        let cert = try w.net.s.run(["unzip", "-p", w.bundle, "items/\(w.webID)/certificate.html"]).out
        #expect(cert.contains("电子数据存证证书") && cert.contains(w.webID) && cert.contains("/shop/pearl.html") && cert.contains("127.0.0.1"))
        if Tool.check(.chromium) {
            let b64 = cert.components(separatedBy: "data:image/png;base64,").dropFirst().first?.prefix { $0 != "\"" } ?? ""
            let png = Data(base64Encoded: String(b64)) ?? Data()
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 1000, "thumbnail")
            let pdf = try w.net.s.run(["sh", "-c", "unzip -p '\(w.bundle)' 'items/\(w.webID)/certificate.pdf' | head -c 5"]).out
            #expect(pdf == "%PDF-")
        }
        // Every check names the values it compared.
        let checks = good.json["checks"] as? [[String: Any]] ?? []
        #expect(checks.count >= 10, "\(checks.count) checks")
        for c in checks { #expect(!(c["detail"] as? String ?? "").isEmpty, "\(c)") }
    }

    @Test func tamperMatrix() throws {
        let w = try World()
        // A byte in each file: refused, naming the file (bundle.json's digests catch it first).
        for m in try w.members() where m != "bundle.json" {
            let t = try w.tamper(m, ["flip"], refresh: false)
            let r = try w.verify(t)
            #expect(r.status == 1 && r.failed.contains { $0.contains(m) || (m.hasPrefix("policy/") && $0.contains("policy")) }, "\(m): \(r.status) \(r.failed)")
        }
        // The same with bundle.json's index forged to match: the deeper checks must still catch it.
        let item = "items/\(w.webID)"
        let fileItem = "items/\(w.fileID)"
        let cases: [(String, [String], String)] = [
            ("\(item)/artifacts/2-capture.warc.gz", ["flip"], "artifact capture.warc.gz"),
            ("\(fileItem)/entry.json", ["sub", "SX-KQ-1", "SX-KQ-2"], "inclusion proof"),
            ("\(item)/inclusion.tlog-proof", ["line", "2", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="], "inclusion proof"),
            ("\(item)/inclusion.tlog-proof", ["line", "1", "index 0"], "inclusion proof"),
            ("\(item)/inclusion.tlog-proof", ["sigflip", "sxevidence.shaoxing/330603"], "checkpoint signatures"),
            ("\(item)/inclusion.tlog-proof", ["sigflip", "sxevidence.shaoxing/330600"], "cosignature"),
            ("\(item)/anchor/entry.json", ["sub", "consortium-anchor", "consortium-ANCHOR"], "anchor"),
            ("\(item)/anchor/inclusion.tlog-proof", ["sigflip", "sxevidence.shaoxing/330600"], "city checkpoint signatures"),
            ("\(item)/timestamps/1-sha256.tsr", ["flip"], "time stamp"),
        ]
        for (m, mode, expect) in cases {
            let t = try w.tamper(m, mode)
            let r = try w.verify(t)
            #expect(r.status == 1 && r.failed.contains { $0.contains(expect) }, "\(m) \(mode): \(r.status) \(r.failed)")
            #expect(!r.failed.contains { $0.hasPrefix("file ") }, "\(m): the forged index should have hidden the digest change")
        }
        // Another city's policy: refused against the one the court holds; alone, its keys sign nothing here.
        let fake = Scratch("fakecity")
        try expectOK(fake.sx(["init", "--node-id", "330600", "--name", "冒充", "--role", "city"]))
        try expectOK(fake.sx(["consortium", "init", "--endpoint", "http://127.0.0.1:1"]))
        let card = try w.net.sx("330603", ["key", "--json"]).out
        try expectOK(fake.sx(["consortium", "add", "--card", "-"], stdin: card))
        let fakePolicy = fake.dir + "/p.note"
        try expectOK(fake.sx(["consortium", "export", "--out", fakePolicy]))
        let swapped = try w.tamper("policy/consortium.policy", ["replace", fakePolicy])
        let r1 = try w.verify(swapped)
        #expect(r1.status == 1 && r1.failed.contains("trust roots"), "\(r1.failed)")
        let r2 = try w.verify(swapped, policy: "")
        #expect(r2.status == 1 && r2.failed.contains { $0.contains("signatures") || $0.contains("cosignature") }, "\(r2.failed)")
        // The untouched bundle still verifies.
        #expect(try w.verify(w.bundle).status == 0)
    }

    @Test func unsafeContainersAreRefused() throws {
        let w = try World()
        let s = w.net.s
        func refused(_ path: String, _ what: String) throws {
            let r = try s.run([binary, "verify", path, "--policy", w.policy])
            #expect(r.status == 65, "\(what): \(r.status) \(r.err)")
            #expect(!r.err.isEmpty)
            let py = try s.run(["python3", repoRoot.appendingPathComponent("scripts/verify-bundle.py").path, path, "--policy", w.policy])
            #expect(py.status == 65, "verify-bundle.py on \(what): \(py.status) \(py.out.suffix(300)) \(py.err.suffix(300))")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: w.bundle))
        try refused(s.write("half.zip", [UInt8](data.prefix(data.count / 2))), "truncated")
        try refused(s.write("noise.zip", pseudoRandom(100_000, seed: 3)), "not a ZIP")
        try refused(s.write("empty.zip", []), "empty file")
        let py = """
        import zipfile, sys, io
        d = sys.argv[1]
        def mk(name, entries, method=zipfile.ZIP_STORED):
            with zipfile.ZipFile(d + '/' + name, 'w', method) as z:
                for n, b in entries:
                    z.writestr(zipfile.ZipInfo(n), b, compress_type=method)
        mk('escape.zip', [('bundle.json', b'{}'), ('../../etc/evil', b'x')])
        mk('absolute.zip', [('bundle.json', b'{}'), ('/etc/evil', b'x')])
        mk('backslash.zip', [('bundle.json', b'{}'), ('..\\\\evil', b'x')])
        mk('bomb.zip', [('bundle.json', b'{}'), ('items/x', b'\\0' * (256 << 20))], zipfile.ZIP_DEFLATED)
        import warnings; warnings.simplefilter('ignore')
        mk('dupe.zip', [('bundle.json', b'{}'), ('bundle.json', b'{"x":1}')])
        """
        try expectOK(s.run(["python3", "-c", py, s.dir]))
        for f in ["escape", "absolute", "backslash", "bomb", "dupe"] { try refused(s.dir + "/\(f).zip", f) }
        // Nothing was written next to the bundles (nothing is ever extracted).
        #expect(!FileManager.default.fileExists(atPath: s.dir + "/../etc/evil") && !FileManager.default.fileExists(atPath: "/etc/evil"))
        #expect(try s.run([binary, "verify", s.dir + "/missing.zip"]).status == 66)
        #expect(try s.run(["python3", repoRoot.appendingPathComponent("scripts/verify-bundle.py").path, s.dir + "/missing.zip"]).status == 66)
    }

    @Test(.needs(.wacz, .warcio, .surt)) func waczValidatesAndIndexesEveryResponse() throws {
        let w = try World()
        let out = w.net.s.dir + "/capture.wacz"
        try expectOK(w.net.sx("330603", ["export", w.webID, "--format", "wacz", "--out", out]))
        let venv = repoRoot.appendingPathComponent(".venv/bin").path
        let v = try w.net.s.run([venv + "/wacz", "validate", "-f", out])
        #expect(v.status == 0 && v.out.contains("valid"), "\(v.out) \(v.err)")
        // The WARC inside is the stored capture, and warcio accepts it.
        let warc = w.net.s.dir + "/inner.warc.gz"
        try w.net.s.run(["sh", "-c", "unzip -p '\(out)' 'archive/\(w.webID).warc.gz' > '\(warc)'"])
        #expect(try w.net.s.run([venv + "/warcio", "check", warc]).status == 0)
        // Every response record is indexed at its offset with the SURT key the surt package gives.
        let check = """
        import sys, json, zipfile, surt
        from warcio.archiveiterator import ArchiveIterator
        z = zipfile.ZipFile(sys.argv[1]); warc = sys.argv[2]
        lines = z.read('indexes/index.cdx').decode().splitlines()
        idx = {}
        for l in lines:
            key, ts, js = l.split(' ', 2); o = json.loads(js)
            assert key == surt.surt(o['url']), (key, o['url'])
            idx[(o['url'], int(o['offset']))] = o
        n = 0
        with open(warc, 'rb') as f:
            it = ArchiveIterator(f)
            for rec in it:
                if rec.rec_type != 'response': continue
                off = it.get_record_offset()
                o = idx[(rec.rec_headers.get_header('WARC-Target-URI'), off)]
                assert int(o['length']) == it.get_record_length(), (o, it.get_record_length())
                assert o['status'] == rec.http_headers.get_statuscode(), o
                n += 1
        assert n == len(lines), (n, len(lines))
        print('ok', n)
        """
        let r = try w.net.s.run([venv + "/python", "-c", check, out, warc])
        #expect(r.status == 0 && r.out.hasPrefix("ok"), "\(r.out) \(r.err)")
        // Not a web capture: refused.
        #expect(try w.net.sx("330603", ["export", w.fileID, "--format", "wacz", "--out", w.net.s.dir + "/x.wacz"]).status == 64)
    }
}
