import Foundation
import Testing

/// Browser capture when things go wrong: each fault gets a clear outcome, and what was recorded
/// before it is committed (sxevidence-capture(5), BROWSER CAPTURE, The load).
@Suite(.serialized, .needs(.python3, .openssl, .venvPython, .warcio, .fastwarc, .chromium)) struct BrowserFaultTests {
    let s: Scratch
    let site: BrowserFixture

    init() throws {
        s = Scratch("brwf")
        try s.initNode()
        site = try BrowserFixture(dir: s.dir)
    }

    func exchanges(_ id: String) throws -> [[String: Any]] {
        try #require(try s.manifest(id)["exchanges"] as? [[String: Any]])
    }

    /// Long polling never lets the network go idle: the capture is taken when --timeout ends
    /// the wait, says so, and the request still in flight is recorded.
    @Test func neverIdle() throws {
        let start = Date()
        let (r, id) = try s.browserCapture(["--timeout", "6", site.url("/poll.html")])
        #expect(Date().timeIntervalSince(start) < 30)
        let m = try s.manifest(try #require(id, "\(r.err)"))
        let b = try #require(m["browser"] as? [String: Any])
        #expect(b["network_idle"] as? Bool == false)
        #expect(m["outcome"] as? String == "ok")
        #expect(try exchanges(try #require(id)).contains { ($0["url"] as? String ?? "").hasSuffix("/api/poll") })
        #expect((m["artifacts"] as? [[String: Any]])?.contains { $0["name"] as? String == "screenshot-viewport.png" } == true)
    }

    /// An upstream reset mid-body: the browser sees the error, the WARC records the body truncated.
    @Test func resetMidBody() throws {
        let (r, id) = try s.browserCapture(["--timeout", "10", site.url("/reset")])
        #expect(r.status == 75, "\(r.err)")
        let cid = try #require(id)
        let m = try s.manifest(cid)
        #expect(m["outcome"] as? String == "truncated")
        let sum = try s.summary(try s.artifact(cid, "capture.warc.gz"))
        let rec = try #require(sum.responses.first { $0["uri"] as? String == site.url("/reset") })
        #expect(rec["truncated"] as? String == "disconnect")
        #expect(rec["payload_bytes"] as? Int == 1000)
    }

    /// A 2 GiB download through the browser: cut, recorded as truncated, memory bounded.
    @Test func hugeDownloadIsCut() throws {
        let measure = repoRoot.appendingPathComponent("scripts/lib/measure.py").path
        let r = try s.run(["python3", measure, "--", binary, "capture", "--home", s.home, "--case", "C", "--officer", "A",
                           "--max-size", "20M", "--timeout", "60", site.url("/download?size=2147483648")])
        let own = Double(r.out.components(separatedBy: "own_peak_rss_mib=").last?.split(separator: " ").first ?? "") ?? 0
        #expect(own > 0 && own < 100, "sxevidence's own peak RSS \(own) MiB: \(r.out)")
        let id = try #require(try s.ledgerIDs().last)
        let ex = try #require(try exchanges(id).first { ($0["url"] as? String ?? "").contains("/download") })
        #expect(ex["truncated"] != nil, "\(ex)")
        #expect((ex["body_size"] as? Int ?? Int.max) <= 20 << 20)
        #expect(try s.sx(["verify"]).status == 0)
    }

    /// A page that opens 200 connections' worth of requests: every one is answered and recorded.
    @Test func twoHundredRequests() throws {
        let (r, id) = try s.browserCapture(["--timeout", "60", site.url("/many.html")])
        #expect(r.status == 0, "\(r.err)")
        let sum = try s.summary(try s.artifact(try #require(id), "capture.warc.gz"), log: site.log)
        let many = sum.responses.filter { ($0["uri"] as? String ?? "").contains("/many/") && $0["status"] as? String == "200" }
        #expect(Set(many.compactMap { $0["uri"] as? String }).count == 200)
        #expect(sum.unrecorded.isEmpty)
    }

    /// Chromium killed mid-capture: what the proxy recorded is committed, the outcome says so.
    @Test func browserKilled() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["capture", "--home", s.home, "--case", "C", "--officer", "A", "--json", "--timeout", "40", site.url("/poll.html")]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        var killed = false
        let deadline = Date().addingTimeInterval(20)
        while !killed && Date() < deadline && p.isRunning {
            Thread.sleep(forTimeInterval: 0.5)
            // The browser is the capture's direct child; once the page is being polled, kill it.
            let kids = try s.run(["pgrep", "-P", "\(p.processIdentifier)"]).out.split(separator: "\n").compactMap { Int32($0) }
            if let child = kids.first, (try? String(contentsOfFile: site.log, encoding: .utf8))?.contains("/api/poll") == true {
                kill(child, SIGKILL)
                killed = true
            }
        }
        p.waitUntilExit()
        #expect(killed)
        #expect(p.terminationStatus == 75)
        let line = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let j = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        #expect(j["outcome"] as? String == "incomplete")
        let m = try s.manifest(try #require(j["id"] as? String))
        #expect((m["browser_error"] as? String ?? "").contains("exited"), "\(m["browser_error"] ?? "")")
        #expect(try exchanges(j["id"] as! String).contains { $0["url"] as? String == site.url("/poll.html") && $0["status"] as? Int == 200 })
        #expect(try s.sx(["verify"]).status == 0)
    }

    /// Bad browser options are usage errors (exit 64) in both languages; a bad cookie file names its line.
    @Test func badOptions() throws {
        let bad = s.write("cookies.txt", "# Netscape HTTP Cookie File\n.shop.example\tTRUE\t/\tFALSE\t0\tsid\n")
        let r = try s.sx(["capture", "--case", "C", "--officer", "A", "--cookies", bad, site.url("/dynamic.html")])
        #expect(r.status == 64 && r.err.contains("line 2"), "\(r.err)")
        let zh = try s.sx(["capture", "--lang", "zh", "--case", "C", "--officer", "A", "--idle", "0", site.url("/dynamic.html")])
        #expect(zh.status == 64 && zh.err.contains("--idle 须在"), "\(zh.err)")
        #expect(try s.ledgerIDs().isEmpty)
    }

    /// A session from a cookie file: the cookie is sent, the manifest names it with a hash of its
    /// value, and the value itself appears nowhere in the manifest.
    @Test func cookiesRecordedByHash() throws {
        let jar = s.write("cookies.txt", "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tsecret-value-42\n")
        let (r, id) = try s.browserCapture(["--cookies", jar, site.url("/dynamic.html")])
        #expect(r.status == 0, "\(r.err)")
        let cid = try #require(id)
        let raw = try String(contentsOfFile: try s.artifact(cid, "manifest.json"), encoding: .utf8)
        #expect(!raw.contains("secret-value-42"))
        let session = try #require((try s.manifest(cid)["browser"] as? [String: Any])?["session"] as? [String: Any])
        let c = try #require((session["cookies"] as? [[String: Any]])?.first)
        let h = try s.run(["python3", "-c", "import hashlib; print(hashlib.sha256(b'secret-value-42').hexdigest())"])
        #expect(c["name"] as? String == "sid" && c["value_sha256"] as? String == h.out.trimmingCharacters(in: .whitespacesAndNewlines))
        // It was sent: the page's request head in the WARC carries it.
        let heads = try exchanges(cid)
        #expect(!heads.isEmpty)
        let log = try s.summary(try s.artifact(cid, "capture.warc.gz")).captureLog
        let sent = (log["exchanges"] as? [[String: Any]] ?? []).contains { ($0["request_head"] as? String ?? "").contains("Cookie: sid=secret-value-42") }
        #expect(sent)
    }
}
