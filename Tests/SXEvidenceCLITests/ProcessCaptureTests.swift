import Foundation
import Testing

/// Process capture (过程取证, `capture --steps`): one browser session, screen-recorded, a
/// screenshot after every step, the step log in the WARC (sxevidence-steps(5)).
@Suite(.serialized, .needs(.python3, .venvPython, .warcio, .fastwarc, .chromium, .ffmpeg, .ffprobe, .tesseract))
struct ProcessCaptureTests {
    let s: Scratch
    let site: BrowserFixture

    init() throws {
        s = Scratch("steps")
        try s.initNode("330681")
        site = try BrowserFixture(dir: s.dir)
    }

    func ocr(_ png: String, lang: String = "chi_sim+eng") throws -> String {
        try s.run(["tesseract", png, "-", "-l", lang]).out
    }

    /// Search → shop → product, in Chinese verbs: every step ok and logged with its screenshot,
    /// the recording as long as the session (ffprobe), its burnt-in clock the Beijing date and
    /// its URL line the product page (tesseract), the price on the product page (OCR and DOM).
    @Test func searchShopProduct() throws {
        let steps = s.write("steps.txt", """
            # 搜索 → 店铺 → 商品
            前往 \(site.url("/steps/search.html"))
            输入 #q => 珍珠项链
            按键 Enter
            点击 #shop
            点击文字 珍珠项链
            等待文字 七天无理由退货 within 10 s
            暂停 2
            截图 product
            备注 价格与宣传语已显示
            """)
        let t0 = Date()
        let (r, id) = try s.browserCapture(["--steps", steps])
        let wall = Date().timeIntervalSince(t0)
        #expect(r.status == 0, "\(r.err)")
        let cid = try #require(id)
        let m = try s.manifest(cid)
        #expect(m["outcome"] as? String == "ok")
        let warc = try s.artifact(cid, "capture.warc.gz")
        let (w, f) = try s.checkWARC(warc)
        #expect(w.status == 0 && f.status == 0)
        let sum = try s.summary(warc, log: site.log, extract: s.dir + "/res")
        #expect(sum.unrecorded.isEmpty)
        let log = try #require(try JSONSerialization.jsonObject(with: Data((sum.metadata["urn:sxevidence:step-log"] ?? "").utf8)) as? [[String: Any]])
        #expect(log.count == 9)
        #expect(log.allSatisfy { $0["outcome"] as? String == "ok" }, "\(log)")
        #expect(log.map { $0["verb"] as? String ?? "" } == ["goto", "type", "press", "click", "click-text", "wait-for-text", "wait", "screenshot", "note"])
        for e in log {
            let shot = try #require(e["screenshot"] as? String, "step \(e["line"] ?? "") has no screenshot")
            #expect(sum.resources["urn:sxevidence:\(shot)"] != nil)
        }
        #expect((log[2]["url_after"] as? String ?? "").contains("/steps/results.html?q="), "Enter submitted the search")
        #expect(log.last?["url_after"] as? String == site.url("/dynamic.html"))
        // The recording: one MP4 resource, as long as the session within a second.
        let rec = try #require(m["browser"].flatMap { ($0 as? [String: Any])?["screen_recording"] as? [String: Any] }, "\(m["browser"] ?? "")")
        let mp4 = s.dir + "/res/screen-recording.mp4"
        let probe = try s.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height:format=duration",
                               "-of", "default=nw=1", mp4])
        #expect(probe.out.contains("codec_name=h264") && probe.out.contains("width=1280") && probe.out.contains("height=872"), "\(probe.out)")
        let duration = Double(probe.out.components(separatedBy: "duration=").last?.split(separator: "\n").first ?? "") ?? -1
        let sessionStart = UTCTimeParse(rec["started"] as? String ?? "")
        let lastStep = UTCTimeParse(log.last?["finished"] as? String ?? "")
        #expect(sessionStart > 0 && lastStep > sessionStart)
        #expect(abs(duration - (lastStep - sessionStart)) <= 1.0, "MP4 \(duration) s, session \(lastStep - sessionStart) s")
        #expect(duration < wall)
        // The last frame: Beijing date (computed here) and the product page's URL burnt in.
        let frame = s.dir + "/last.png"
        _ = try s.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-sseof", "-0.5", "-i", mp4, "-frames:v", "1",
                       "-vf", "crop=900:80:0:0,scale=1800:160", frame])
        let text = try ocr(frame, lang: "eng+chi_sim")
        let f8 = DateFormatter()
        f8.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        f8.dateFormat = "yyyy-MM-dd"
        #expect(text.contains(f8.string(from: Date())), "clock line: \(text)")
        #expect(text.contains("dynamic.html"), "URL line: \(text)")
        // The product page itself: OCR of the full-page screenshot finds the price the script put in.
        let page = try ocr(s.dir + "/res/screenshot-fullpage.png")
        let flat = page.replacingOccurrences(of: " ", with: "")
        #expect(flat.contains("1,280"), "\(page)")
        #expect(flat.contains("无理由退货"), "\(page)")
        #expect(try s.sx(["verify"]).status == 0)
    }

    /// A selector that never appears: a clear error naming the step; what happened before is
    /// committed, the rest is logged as skipped.
    @Test func failedStepCommitsWhatCameBefore() throws {
        let steps = s.write("steps.txt", """
            goto \(site.url("/steps/search.html"))
            click #no-such-button
            screenshot never
            """)
        let (r, id) = try s.browserCapture(["--steps", steps])
        #expect(r.status == 75)
        let m = try s.manifest(try #require(id))
        #expect(m["outcome"] as? String == "incomplete")
        #expect((m["browser_error"] as? String ?? "").contains("line 2 (click #no-such-button)"), "\(m["browser_error"] ?? "")")
        let sum = try s.summary(try s.artifact(try #require(id), "capture.warc.gz"))
        let log = try #require(try JSONSerialization.jsonObject(with: Data((sum.metadata["urn:sxevidence:step-log"] ?? "").utf8)) as? [[String: Any]])
        #expect(log.map { $0["outcome"] as? String ?? "" } == ["ok", "failed", "skipped"])
        #expect(sum.requests[site.url("/steps/search.html")] == 1)
    }

    /// An unknown step is refused before anything is fetched, naming its line, in both languages.
    @Test func unknownStepRefused() throws {
        let steps = s.write("steps.txt", "goto \(site.url("/steps/search.html"))\nfly away\n")
        let en = try s.browserCapture(["--steps", steps]).0
        #expect(en.status == 64 && en.err.contains("line 2") && en.err.contains("unknown step fly"), "\(en.err)")
        let zh = try s.sx(["capture", "--lang", "zh", "--case", "C", "--officer", "A", "--steps", steps])
        #expect(zh.status == 64 && zh.err.contains("第 2 行") && zh.err.contains("未知步骤"), "\(zh.err)")
        #expect(try s.ledgerIDs().isEmpty)
        #expect(!(try String(contentsOfFile: site.log, encoding: .utf8)).contains("search.html"))
    }
}

/// Seconds since 1970 of an ISO 8601 UTC time with milliseconds, parsed here (not with sxevidence).
func UTCTimeParse(_ s: String) -> Double {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.date(from: s)?.timeIntervalSince1970 ?? 0
}
