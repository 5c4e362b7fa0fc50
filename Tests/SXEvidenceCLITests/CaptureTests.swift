import Foundation
import Testing

/// Web capture against the fixture shop over real HTTP and HTTPS, checked with warcio and fastwarc.
@Suite(.serialized, .needs(.python3, .openssl, .venvPython, .warcio, .fastwarc)) struct CaptureTests {
    let shop: ShopServer
    init() throws { shop = try ShopServer() }

    func capture(_ s: Scratch, _ args: [String]) throws -> Result {
        try s.sx(["capture", "--no-browser", "--case", "SX-2026-007", "--officer", "A01"] + args)
    }

    @Test func productPageWithRequisites() throws {
        let s = Scratch("cap")
        try s.initNode()
        let r = try capture(s, ["--requisites", shop.url("/go")])
        #expect(r.status == 0, "\(r.err)")
        let id = String(r.out.prefix(13))
        #expect(id == "330603-000001")
        let warc = try s.artifact(id, "capture.warc.gz")
        let (w, f) = try s.checkWARC(warc)
        #expect(w.status == 0 && !w.out.contains("digest failed"), "\(w.out)")
        #expect(f.status == 0, "\(f.out) \(f.err)")
        let recs = try s.warcRecords(warc)
        #expect(recs.first?["type"] == "warcinfo")
        let responses = recs.filter { $0["type"] == "response" }
        let uris = Set(responses.map { $0["uri"]! })
        for p in ["/go", "/shop/pearl.html", "/shop/css/style.css", "/shop/js/app.js", "/shop/img/pearl.png",
                  "/shop/img/logo.png", "/shop/img/bg.png", "/shop/live.html"] {
            #expect(uris.contains(shop.url(p)), "missing \(p)")
        }
        #expect(responses.first { $0["uri"] == shop.url("/go") }?["status"] == "301")
        // The stored body of the page is byte for byte the file the server sent.
        let page = responses.first { $0["uri"] == shop.url("/shop/pearl.html") }!
        let original = try Data(contentsOf: repoRoot.appendingPathComponent("fixtures/shop/pearl.html"))
        #expect(hexBytes(page["raw_hex"]!) == [UInt8](original))
        #expect(recs.filter { $0["type"] == "request" }.count == responses.count)
        #expect(recs.contains { $0["uri"] == "urn:sxevidence:environment" })
        #expect(recs.contains { $0["uri"] == "urn:sxevidence:capture-log" })
        // The manifest's WARC digests agree with sha256sum and openssl's SM3, and the entry commits to the manifest.
        let m = try s.manifest(id)
        let a = (m["artifacts"] as! [[String: Any]])[0]
        #expect(a["sha256"] as? String == String(try s.run(["sha256sum", warc]).out.prefix(64)))
        #expect(a["sm3"] as? String == String(try s.run(["openssl", "dgst", "-sm3", "-r", warc]).out.prefix(64)))
        #expect(m["final_url"] as? String == shop.url("/shop/pearl.html"))
        #expect(m["outcome"] as? String == "ok")
        #expect(m["status"] as? Int == 200)
        #expect(try s.sx(["verify"]).status == 0)
    }

    /// Chunked framing and gzip bytes are stored as received, and both validators still pass.
    @Test func chunkedAndGzipStoredAsReceived() throws {
        let s = Scratch("chunk")
        try s.initNode()
        let r = try capture(s, [shop.url("/chunked"), shop.url("/gzip?chunked=1"), "--concurrency", "2"])
        #expect(r.status == 0, "\(r.err)")
        for line in r.lines {
            let id = String(line.prefix(13))
            let warc = try s.artifact(id, "capture.warc.gz")
            let (w, f) = try s.checkWARC(warc)
            #expect(w.status == 0 && !w.out.contains("digest failed"), "\(w.out)")
            #expect(f.status == 0)
            let resp = try s.warcRecords(warc).first { $0["type"] == "response" }!
            let raw = hexBytes(resp["raw_hex"]!)
            #expect(Array(raw.prefix(5)) == Array("12c\r\n".utf8), "chunk framing kept")
            if line.contains("gzip") {
                #expect(raw[5] == 0x1f && raw[6] == 0x8b, "gzip bytes kept")
            }
            #expect(Array(raw.suffix(5)) == Array("0\r\n\r\n".utf8))
        }
    }

    @Test func gbkPage() throws {
        let s = Scratch("gbk")
        try s.initNode()
        let r = try capture(s, ["--requisites", shop.url("/shop/gbk.html")])
        #expect(r.status == 0)
        let warc = try s.artifact(String(r.out.prefix(13)), "capture.warc.gz")
        let recs = try s.warcRecords(warc).filter { $0["type"] == "response" }
        let page = recs.first { $0["uri"] == shop.url("/shop/gbk.html") }!
        let original = try Data(contentsOf: repoRoot.appendingPathComponent("fixtures/shop/gbk.html"))
        #expect(hexBytes(page["raw_hex"]!) == [UInt8](original))
        #expect(recs.contains { $0["uri"] == shop.url("/shop/css/style.css") })
        #expect(recs.contains { $0["uri"] == shop.url("/shop/img/pearl.png") })
    }

    @Test func https() throws {
        let s = Scratch("tls")
        try s.initNode()
        let ok = try capture(s, [shop.tls("/shop/pearl.html"), "--ca-file", shop.caFile, "--json"])
        #expect(ok.status == 0, "\(ok.err)")
        let id = try #require((ok.json as? [String: Any])?["id"] as? String, "\(ok.out)")
        let warc = try s.artifact(id, "capture.warc.gz")
        let recs = try s.warcRecords(warc)
        let pem = recs.first { $0["ctype"] == "application/x-pem-file" }
        let serverPEM = try String(contentsOfFile: shop.serverCert, encoding: .utf8)
        let stored = String(decoding: hexBytes(pem?["raw_hex"] ?? ""), as: UTF8.self)
        let body = { (p: String) in p.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined() }
        #expect(body(stored).contains(body(serverPEM)), "server certificate recorded")
        let ex = (try s.manifest(id)["exchanges"] as! [[String: Any]])[0]
        #expect(ex["tls_verified"] as? String == "yes")
        #expect((ex["tls_version"] as? String ?? "").hasPrefix("TLSv1."))
        // The names of the server certificate, as openssl reads them from the fixture's PEM.
        let subj = try s.run(["openssl", "x509", "-in", shop.serverCert, "-noout", "-subject", "-nameopt", "compat"]).out
        #expect(subj.trimmingCharacters(in: .whitespacesAndNewlines) == "subject=" + (ex["tls_subject"] as? String ?? "?"), "\(subj) vs \(ex["tls_subject"] ?? "-")")
        #expect((ex["tls_issuer"] as? String ?? "").contains("Fixture Shop Test CA"))

        // Untrusted certificate: the failure itself is the evidence, exit 75.
        let bad = try capture(s, [shop.tls("/shop/pearl.html")])
        #expect(bad.status == 75)
        #expect(bad.out.contains("FAILED"))
        let badM = try s.manifest(String(bad.out.prefix(13)))
        #expect(badM["outcome"] as? String == "failed")

        // --allow-invalid-tls: captured, and the failure recorded prominently.
        let insecure = try capture(s, [shop.tls("/shop/pearl.html"), "--allow-invalid-tls"])
        #expect(insecure.status == 0)
        #expect(insecure.err.contains("TLS"))
        let im = try s.manifest(String(insecure.out.prefix(13)))
        let exs = im["exchanges"] as! [[String: Any]]
        #expect(exs.count == 2 && exs[0]["tls_verified"] as? String == "NO" && exs[0]["error"] != nil)
        #expect(exs[1]["status"] as? Int == 200)
        #expect((im["method"] as? String ?? "").contains("invalid TLS"))
    }

    /// Each failure is recorded as evidence with a clear outcome; every WARC still validates.
    @Test func failuresAndLimits() throws {
        let s = Scratch("fail")
        try s.initNode()
        let cases: [([String], Int32, String, String?)] = [
            ([shop.url("/nope")], 0, "http-error", nil),
            (["http://127.0.0.1:1/"], 75, "failed", nil),
            (["http://no-such-host.invalid/"], 75, "failed", nil),
            (["http://127.0.0.1:\(shop.blackholePort)/", "--connect-timeout", "1"], 75, "failed", nil),
            ([shop.url("/loop"), "--max-redirects", "3"], 75, "failed", nil),
            ([shop.url("/big?size=3000000"), "--max-size", "1M"], 75, "truncated", "length"),
            ([shop.url("/reset")], 75, "truncated", "disconnect"),
            ([shop.url("/slow?bytes=100&every=0.2"), "--timeout", "1"], 75, "truncated", "time"),
        ]
        for (args, status, outcome, truncated) in cases {
            let r = try capture(s, args)
            #expect(r.status == status, "\(args): \(r.err)")
            let id = String(r.out.prefix(13))
            let m = try s.manifest(id)
            #expect(m["outcome"] as? String == outcome, "\(args)")
            if args.contains("--connect-timeout") {
                #expect((m["error"] as? String ?? "").contains("Timeout was reached"), "connect timeout, not refusal: \(m["error"] ?? "")")
            }
            let warc = try s.artifact(id, "capture.warc.gz")
            let (w, f) = try s.checkWARC(warc)
            #expect(w.status == 0 && !w.out.contains("digest failed"), "\(args): \(w.out)")
            #expect(f.status == 0, "\(args)")
            if let truncated {
                let resp = try s.warcRecords(warc).first { $0["type"] == "response" }
                #expect(resp?["truncated"] == truncated, "\(args)")
                if truncated == "length" { #expect(hexBytes(resp?["raw_hex"] ?? "").count == 1 << 20) }
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.home + "/objects/tmp").isEmpty)
        #expect(try s.sx(["verify"]).status == 0)
    }

    @Test func badInputWritesNothing() throws {
        let s = Scratch("capbad")
        try s.initNode()
        for args in [["ht tp://x"], ["ftp://127.0.0.1/x"], ["http://"], [shop.url("/"), "--concurrency", "0"], [shop.url("/"), "--max-size", "lots"]] {
            let r = try capture(s, args)
            #expect(r.status == 64, "\(args)")
        }
        #expect(try s.ledgerIDs().isEmpty)
    }

    @Test func batchWithConcurrencyAndRepeats() throws {
        let s = Scratch("batch")
        try s.initNode()
        let list = s.write("urls.txt", (1...12).map { shop.url("/page/\($0)") }.joined(separator: "\n") + "\n# a comment\n")
        let r = try capture(s, ["--from", list, "--concurrency", "4", "--json"])
        #expect(r.status == 0)
        #expect(r.lines.count == 12)
        #expect(Set(r.lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["url"] as? String }).count == 12)
        // Chromium missing: a clear warning, a libcurl-only capture, and the manifest says so.
        let rep = try s.sx(["capture", "--case", "SX-2026-007", "--officer", "A01", shop.url("/shop/pearl.html"), "--every", "1s",
                            "--count", "2", "--chromium", "/nonexistent"])
        #expect(rep.status == 0)
        #expect(rep.err.contains("no Chromium found: libcurl-only capture"), "\(rep.err)")
        let ids = rep.lines.map { String($0.prefix(13)) }
        #expect(ids.count == 2)
        let m1 = try s.manifest(ids[0]), m2 = try s.manifest(ids[1])
        #expect(m1["series"] as? String != nil && m1["series"] as? String == m2["series"] as? String)
        #expect(m1["snapshot"] as? Int == 1 && m2["snapshot"] as? Int == 2)
        #expect((m1["screenshot"] as? String ?? "").contains("no Chromium found"))
        #expect(m1["browser"] == nil && (m1["method"] as? String ?? "").hasPrefix("sxevidence capture: "))
        #expect(try s.sx(["verify"]).status == 0)
    }

    @Test(.needs(.tmpfs)) func readOnlyStore() throws {
        let s = Scratch("caprom")
        let r = try s.inTmpfs(size: "8m", """
        mount -o remount,ro '\(s.dir)/mnt' || exit 97
        '\(binary)' capture --no-browser --home "$H" --case C --officer A '\(shop.url("/shop/pearl.html"))'; echo "STATUS=$?"
        mount -o remount,rw '\(s.dir)/mnt' || exit 96
        echo "IDS=$('\(binary)' log --home "$H" --json)"
        """)
        #expect(r.out.contains("STATUS=74"), "\(r.out) \(r.err)")
        #expect(r.out.contains("IDS=[]\n"), "no entry once the store is writable again: \(r.out)")
    }
}

/// With Chromium installed (scripts/setup installs it), --screenshot stores PNGs and a PDF in the WARC.
@Suite(.needs(.python3, .openssl, .venvPython, .warcio, .fastwarc)) struct ScreenshotTests {
    @Test(.needs(.chromium)) func screenshotsStoredAndHashed() throws {
        let shop = try ShopServer()
        let s = Scratch("shot")
        try s.initNode()
        let r = try s.sx(["capture", "--case", "C", "--officer", "A", "--screenshot", shop.url("/shop/pearl.html")])
        #expect(r.status == 0, "\(r.err)")
        let id = String(r.out.prefix(13))
        let m = try s.manifest(id)
        let arts = m["artifacts"] as! [[String: Any]]
        let names = Set(arts.compactMap { $0["name"] as? String })
        #expect(names.isSuperset(of: ["screenshot-viewport.png", "screenshot-fullpage.png", "page.pdf"]), "\(names) \(m["screenshot"] ?? "")")
        let warc = try s.artifact(id, "capture.warc.gz")
        let recs = try s.warcRecords(warc).filter { $0["type"] == "resource" }
        for rec in recs {
            let bytes = hexBytes(rec["raw_hex"]!)
            let name = rec["uri"]!.replacingOccurrences(of: "urn:sxevidence:", with: "")
            let listed = arts.first { $0["name"] as? String == name }
            // The digest in the manifest is of the bytes inside the WARC, checked here by Python's hashlib.
            let tmp = s.write("resource.bin", bytes)
            let h = try s.run(["python3", "-c", "import sys,hashlib; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())", tmp])
            #expect(listed?["sha256"] as? String == h.out.trimmingCharacters(in: .whitespacesAndNewlines))
            if name.hasSuffix(".png") { #expect(Array(bytes.prefix(4)) == [0x89, 0x50, 0x4E, 0x47]) }
            if name.hasSuffix(".pdf") { #expect(Array(bytes.prefix(4)) == Array("%PDF".utf8)) }
        }
        let (w, f) = try s.checkWARC(warc)
        #expect(w.status == 0 && f.status == 0)
    }
}
