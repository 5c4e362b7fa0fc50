import Foundation
import Testing

/// fixtures/browser_server.py on 127.0.0.1: logs every request and UDP datagram it receives.
final class BrowserFixture {
    let process = Process()
    let stdin = Pipe()
    let log: String
    private(set) var port = 0
    private(set) var udpPort = 0

    init(dir: String) throws {
        log = dir + "/server.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repoRoot.appendingPathComponent("fixtures/browser_server.py").path, "--log", log]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        try process.run()
        let text = readFirstLine(out)
        let ports = text.split(separator: " ").compactMap { $0.split(separator: "=").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        guard text.hasPrefix("READY"), ports.count == 2 else {
            process.terminate()
            throw EvidenceTestError("fixtures/browser_server.py did not start: \(text)")
        }
        port = ports[0]
        udpPort = ports[1]
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
}

/// What Tests/tools/check_browser_capture.py (warcio) reads from a browser capture's WARC.
struct WARCSummary {
    let raw: [String: Any]
    var requests: [String: Int] {
        Dictionary(((raw["requests"] as? [[String: Any]]) ?? []).map { ($0["uri"] as? String ?? "", $0["count"] as? Int ?? 0) }) { $0 + $1 }
    }
    var responses: [[String: Any]] { raw["responses"] as? [[String: Any]] ?? [] }
    var resources: [String: [String: Any]] { raw["resources"] as? [String: [String: Any]] ?? [:] }
    var metadata: [String: String] { raw["metadata"] as? [String: String] ?? [:] }
    var unrecorded: [[String: Any]] { raw["unrecorded"] as? [[String: Any]] ?? [] }
    var server: [[String: Any]] { raw["server"] as? [[String: Any]] ?? [] }
    var udp: Int { raw["udp"] as? Int ?? -1 }
    var captureLog: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data((metadata["urn:sxevidence:capture-log"] ?? "{}").utf8))) as? [String: Any] ?? [:]
    }
    var environment: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data((metadata["urn:sxevidence:environment"] ?? "{}").utf8))) as? [String: Any] ?? [:]
    }

    func serverCount(_ path: String) -> Int {
        server.filter { $0["path"] as? String == path }.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
    }
}

extension Scratch {
    func summary(_ warc: String, log: String? = nil, extract: String? = nil) throws -> WARCSummary {
        var argv = [venvBin + "/python", repoRoot.appendingPathComponent("Tests/tools/check_browser_capture.py").path, warc]
        if let log { argv += ["--log", log] }
        if let extract { argv += ["--extract", extract] }
        let r = try run(argv)
        let j = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], "checker: \(r.err)")
        return WARCSummary(raw: j)
    }

    func browserCapture(_ args: [String]) throws -> (Result, String?) {
        let r = try sx(["capture", "--case", "SX-ZJ-2026-0815", "--officer", "A01"] + args)
        return (r, r.out.count >= 13 ? String(r.out.prefix(13)) : nil)
    }
}

/// Browser capture: headless Chromium renders only what the recording proxy received, and every
/// picture and document comes from that one load (sxevidence-capture(5), BROWSER CAPTURE).
@Suite(.serialized, .needs(.python3, .openssl, .venvPython, .warcio, .fastwarc, .chromium)) struct BrowserCaptureTests {
    /// A page whose price and claim are put in by script: the rendered DOM and visible text hold
    /// them, the libcurl-only capture does not; every artifact is a resource record whose digest
    /// (computed here) is the manifest's; the page and its API were each fetched exactly once.
    @Test func scriptInsertedContentFromOneLoad() throws {
        let s = Scratch("brw")
        try s.initNode("330681")
        let site = try BrowserFixture(dir: s.dir)
        let (r, id) = try s.browserCapture(["--scroll", "--wait-for", "七天无理由退货", site.url("/dynamic.html")])
        #expect(r.status == 0, "\(r.err)")
        let cid = try #require(id)
        let m = try s.manifest(cid)
        #expect(m["outcome"] as? String == "ok")
        #expect((m["method"] as? String ?? "").contains("recording proxy"))
        let warc = try s.artifact(cid, "capture.warc.gz")
        let (w, f) = try s.checkWARC(warc)
        #expect(w.status == 0 && !w.out.contains("digest failed"), "\(w.out)")
        #expect(f.status == 0, "\(f.out) \(f.err)")
        let sum = try s.summary(warc, log: site.log, extract: s.dir + "/res")
        // One load: the page and its API each reached the server once, and both are in the WARC.
        #expect(sum.serverCount("/dynamic.html") == 1 && sum.serverCount("/api/price.json") == 1, "\(sum.server)")
        #expect(sum.unrecorded.isEmpty, "reached the server without a record: \(sum.unrecorded)")
        #expect(sum.requests[site.url("/api/price.json")] == 1)
        let dom = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: s.dir + "/res/dom.html"))) ?? Data(), as: UTF8.self)
        let text = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: s.dir + "/res/text.txt"))) ?? Data(), as: UTF8.self)
        for needle in ["¥1,280.00", "七天无理由退货", "诸暨天然淡水珍珠项链"] {
            #expect(dom.contains(needle), "DOM lacks \(needle)")
            #expect(text.contains(needle), "visible text lacks \(needle)")
        }
        #expect(dom.hasPrefix("<!DOCTYPE html>"))
        // Every artifact: in the manifest with both digests, the SHA-256 equal to hashlib's of the record.
        let arts = try #require(m["artifacts"] as? [[String: Any]])
        for name in ["screenshot-viewport.png", "screenshot-fullpage.png", "dom.html", "page.mhtml", "page.pdf", "text.txt"] {
            let a = try #require(arts.first { $0["name"] as? String == name }, "no artifact \(name)")
            let rec = try #require(sum.resources["urn:sxevidence:\(name)"], "no resource record \(name)")
            #expect(a["sha256"] as? String == rec["sha256"] as? String, "\(name)")
            #expect((a["sm3"] as? String ?? "").count == 64)
            #expect(!(rec["concurrent_to"] as? String ?? "").isEmpty, "\(name) not linked to the page")
        }
        let shot = try s.run(["python3", "-c", "import struct,sys; d=open(sys.argv[1],'rb').read(24); print(*struct.unpack('>II', d[16:24]))",
                              s.dir + "/res/screenshot-fullpage.png"])
        let dims = shot.out.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(dims.count == 2 && dims[0] == 1280 && dims[1] > 1800, "full page is taller than the viewport: \(shot.out)")
        let fp = try #require((m["browser"] as? [String: Any])?["full_page"] as? [String: Any])
        #expect(fp["height"] as? Int == dims.last && fp["capped"] as? Bool == false)
        let pdf = try Data(contentsOf: URL(fileURLWithPath: s.dir + "/res/page.pdf"))
        #expect(pdf.prefix(4) == Data("%PDF".utf8))
        let mhtml = String(decoding: try Data(contentsOf: URL(fileURLWithPath: s.dir + "/res/page.mhtml")), as: UTF8.self)
        #expect(mhtml.contains("Content-Type: multipart/related"))
        // The environment record names the browser; its digest is sha256sum's of the running executable.
        let b = try #require(sum.environment["browser"] as? [String: Any])
        #expect((b["version"] as? String ?? "").contains("Chrome/"))
        let flags = b["flags"] as? [String] ?? []
        for flag in ["--remote-debugging-pipe", "--disable-quic", "--webrtc-ip-handling-policy=disable_non_proxied_udp", "--proxy-bypass-list=<-loopback>"] {
            #expect(flags.contains(flag), "\(flag) not recorded")
        }
        let exe = try #require(b["executable"] as? String)
        #expect(b["executable_sha256"] as? String == String(try s.run(["sha256sum", exe]).out.prefix(64)))
        #expect((b["profile"] as? String ?? "").hasPrefix("fresh"))
        #expect(try s.sx(["verify"]).status == 0)

        // The same page with libcurl alone: the shell only, no price, no claim.
        let (plain, pid) = try s.browserCapture(["--no-browser", site.url("/dynamic.html")])
        #expect(plain.status == 0)
        let pw = try s.summary(try s.artifact(try #require(pid), "capture.warc.gz"))
        #expect(pw.resources.isEmpty && pw.requests[site.url("/api/price.json")] == nil)
        let body = try String(decoding: Data(contentsOf: URL(fileURLWithPath: try s.artifact(try #require(pid), "capture.warc.gz"))), as: UTF8.self)
        #expect(!body.contains("七天无理由退货"))
    }

    /// fetch, XHR, EventSource, WebSocket, WebRTC STUN, a lazy image, a web font, a service worker,
    /// a cross-origin iframe and a redirect: every request the server received is in the WARC,
    /// no STUN datagram reached it, and the WebSockets were refused and recorded as refused.
    @Test func nothingBypassesTheProxy() throws {
        let s = Scratch("brwbyp")
        try s.initNode()
        let site = try BrowserFixture(dir: s.dir)
        let (r, id) = try s.browserCapture(["--scroll", site.url("/bypass.html")])
        #expect(r.status == 0, "\(r.err)")
        let warc = try s.artifact(try #require(id), "capture.warc.gz")
        let sum = try s.summary(warc, log: site.log)
        #expect(sum.unrecorded.isEmpty, "reached the server without a record: \(sum.unrecorded)")
        #expect(sum.udp == 0, "a datagram reached the STUN port")
        for path in ["/api/fetch", "/api/xhr", "/api/events", "/lazy.png", "/font.woff2", "/sw.js", "/redirect", "/img.png"] {
            #expect(sum.requests[site.url(path)] == 1, "\(path): \(sum.requests[site.url(path)] ?? 0) request records")
            #expect(sum.serverCount(path) == 1, "\(path) fetched \(sum.serverCount(path)) times")
        }
        #expect(sum.requests["http://localhost:\(site.port)/frame.html"] == 1, "cross-origin frame")
        #expect(sum.serverCount("/ws") == 0 && sum.serverCount("/ws2") == 0, "a WebSocket reached the server")
        let events = (sum.captureLog["browser"] as? [String: Any])?["proxy_events"] as? [[String: Any]] ?? []
        let refused = events.filter { ($0["kind"] as? String ?? "").hasSuffix("refused") && $0["port"] as? Int == site.port }
        #expect(refused.count >= 2, "WebSocket refusals recorded: \(events)")
        // Nothing was added to the requests on the way: no Via, the browser's own User-Agent.
        let server = try String(contentsOfFile: site.log, encoding: .utf8)
        #expect(!server.contains("\"via\": \"1"), "a Via header was added")
    }

    /// HTTPS: the proxy verifies the upstream with the capture's CA bundle, records its chain, and
    /// shows the browser a leaf of the capture's own CA, recorded in the WARC; the CA's fingerprint
    /// and the trusted key's SPKI digest (recomputed here with openssl) are in the environment record.
    @Test func httpsInterception() throws {
        let shop = try ShopServer()
        let s = Scratch("brwtls")
        try s.initNode()
        let (r, id) = try s.browserCapture(["--ca-file", shop.caFile, shop.tls("/shop/pearl.html")])
        #expect(r.status == 0, "\(r.err)")
        let cid = try #require(id)
        let m = try s.manifest(cid)
        #expect(m["outcome"] as? String == "ok")
        let page = try #require((m["exchanges"] as? [[String: Any]])?.first { $0["url"] as? String == shop.tls("/shop/pearl.html") })
        #expect(page["tls_verified"] as? String == "yes" && (page["tls_subject"] as? String ?? "").contains("127.0.0.1"))
        let warc = try s.artifact(cid, "capture.warc.gz")
        let (w, f) = try s.checkWARC(warc)
        #expect(w.status == 0 && f.status == 0)
        let sum = try s.summary(warc)
        // Every https exchange has the site's own chain (also those on a reused connection).
        let site = try String(contentsOfFile: shop.serverCert, encoding: .utf8)
        let siteBody = site.components(separatedBy: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let exchanges = sum.captureLog["exchanges"] as? [[String: Any]] ?? []
        let https = exchanges.filter { ($0["url"] as? String ?? "").hasPrefix("https://127.0.0.1") }
        #expect(https.count >= 5)
        for ex in https {
            let chain = (ex["certificate_chain_pem"] as? [String] ?? []).joined().replacingOccurrences(of: "\n", with: "")
            #expect(chain.contains(siteBody), "\(ex["url"] ?? "") has no upstream chain")
        }
        // What the browser was shown: the capture CA and a leaf for 127.0.0.1, which openssl verifies.
        let shown = try #require(sum.metadata["urn:sxevidence:interception-certificates"])
        let blocks = shown.components(separatedBy: "-----END CERTIFICATE-----\n").filter { !$0.isEmpty }.map { $0 + "-----END CERTIFICATE-----\n" }
        #expect(blocks.count == 2)
        let caPath = s.write("ica.pem", blocks[0]), leafPath = s.write("leaf.pem", blocks[1])
        let v = try s.run(["openssl", "verify", "-CAfile", caPath, leafPath])
        #expect(v.status == 0, "\(v.out) \(v.err)")
        let text = try s.run(["openssl", "x509", "-in", leafPath, "-noout", "-text"]).out
        #expect(text.contains("IP Address:127.0.0.1") && text.contains("TLS Web Server Authentication"))
        #expect(try s.run(["openssl", "x509", "-in", caPath, "-noout", "-text"]).out.contains("CA:TRUE"))
        let b = try #require(sum.environment["browser"] as? [String: Any])
        let fp = try s.run(["openssl", "x509", "-in", caPath, "-noout", "-fingerprint", "-sha256"]).out
        let hex = fp.components(separatedBy: "=").last?.replacingOccurrences(of: ":", with: "").lowercased().trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(b["interception_ca_sha256"] as? String == hex)
        let spki = try s.run(["sh", "-c", "openssl x509 -in '\(leafPath)' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64"])
        #expect(b["trusted_spki_sha256_base64"] as? String == spki.out.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect((b["flags"] as? [String] ?? []).contains("--ignore-certificate-errors-spki-list=\(spki.out.trimmingCharacters(in: .whitespacesAndNewlines))"))
        // The CA key was never written: no private key anywhere in the node home but the node's own.
        let keys = try s.run(["grep", "-rl", "PRIVATE KEY", s.home]).out.split(separator: "\n").filter { !$0.contains("/keys/") }
        #expect(keys.isEmpty, "\(keys)")

        // Upstream verification fails without the fixture's CA: the page is not shown, the failure recorded.
        let (bad, badID) = try s.browserCapture([shop.tls("/shop/pearl.html")])
        #expect(bad.status == 75)
        let bm = try s.manifest(try #require(badID))
        #expect(bm["outcome"] as? String == "failed")
        #expect((bm["error"] as? String ?? "").contains("certificate"), "\(bm["error"] ?? "")")
        // ... and under --allow-invalid-tls it is captured, marked unverified, and the officer warned.
        let (lax, laxID) = try s.browserCapture(["--allow-invalid-tls", shop.tls("/shop/pearl.html")])
        #expect(lax.status == 0)
        #expect(lax.err.contains("TLS"), "\(lax.err)")
        let lm = try s.manifest(try #require(laxID))
        let lp = (lm["exchanges"] as? [[String: Any]])?.first { $0["url"] as? String == shop.tls("/shop/pearl.html") }
        #expect(lp?["tls_verified"] as? String == "NO")
    }
}
