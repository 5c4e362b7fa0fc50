import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Process capture (过程取证, `capture --steps`): the steps of sxevidence-steps(5) in one browser
/// session through the recording proxy, the whole session screen-recorded, a screenshot after
/// every step, the step log as a metadata record; all under one entry.
extension WebCapture {
    func performSteps(_ steps: [Step], page: PageSession, proxy: RecordingProxy, options b: BrowserOptions, tag: String, work: String,
                      into out: inout BrowserOutcome, manifest: inout [String: CanonicalValue],
                      step: (String, [String: CanonicalValue]) -> Void) throws {
        let tmp = home.store.tmpDir
        var recorder: ScreenRecorder?
        if let ff = b.ffmpeg {
            do {
                let r = try ScreenRecorder(ffmpeg: ff, output: "\(tmp)/\(tag).screen-recording.mp4", workDir: work, width: b.width, height: b.height)
                recorder = r
                try page.startScreencast(frame: { r.frame(jpeg: $0) }, url: { r.setURL($0) })
            } catch {
                recorder?.abort()
                recorder = nil
                manifest["screen_recording"] = .string("failed to start: \(EvidenceError.wrap(error).en)")
            }
        } else {
            manifest["screen_recording"] = .string("ffmpeg is not installed: no screen recording")
        }
        var log: [CanonicalValue] = []
        var failure: String?
        for (k, s) in steps.enumerated() {
            guard failure == nil else {
                log.append(.object(["line": .int(Int64(s.line)), "step": .string(s.source), "verb": .string(s.verb), "outcome": .string("skipped")]))
                continue
            }
            let started = UTCTime.now()
            var entry: [String: CanonicalValue] = ["line": .int(Int64(s.line)), "step": .string(s.source), "verb": .string(s.verb),
                                                   "started": .string(started)]
            do {
                try perform(s, page: page, proxy: proxy, options: b)
                entry["outcome"] = .string("ok")
            } catch {
                if page.devtools.isClosed { throw error }
                let e = EvidenceError.wrap(error).en
                entry["outcome"] = .string("failed")
                entry["error"] = .string(e)
                failure = "step on line \(s.line) (\(s.source)) failed: \(e)"
            }
            let label: String
            if case .screenshot(let name) = s.kind { label = name } else { label = s.verb }
            let name = "step-\(String(format: "%03d", k + 1))-\(label).png"
            // A page between two documents may make no frame for a while: ask again once.
            if let png = (try? page.viewportScreenshot(timeout: 8)) ?? (try? page.viewportScreenshot(timeout: 8)) {
                let path = "\(tmp)/\(tag).\(name)"
                try POSIXFile.writeAtomically(path, png, mode: 0o600)
                out.artifacts.append(BrowserArtifact(name: name, contentType: "image/png", path: path))
                entry["screenshot"] = .string(name)
            }
            entry["finished"] = .string(UTCTime.now())
            entry["url_after"] = .string(page.location)
            log.append(.object(entry))
            step("step", ["line": .int(Int64(s.line)), "outcome": entry["outcome"] ?? .null])
        }
        page.stopScreencast()
        if let r = recorder {
            do {
                let f = try r.finish()
                out.artifacts.append(BrowserArtifact(name: "screen-recording.mp4", contentType: "video/mp4", path: f.path))
                manifest["screen_recording"] = .object(["name": .string("screen-recording.mp4"), "started": .string(r.startedUTC),
                                                        "fps": .int(Int64(r.fps)), "frames": .int(Int64(f.frames)),
                                                        "milliseconds": .int(Int64(f.seconds * 1000)), "command": .strings(r.command)])
            } catch {
                manifest["screen_recording"] = .string(EvidenceError.wrap(error).en)
            }
        }
        out.records.append((uri: "urn:sxevidence:step-log", block: CanonicalValue.array(log).canonicalBytes))
        manifest["steps"] = .int(Int64(steps.count))
        if let failure { out.error = failure }
        try takeArtifacts(page, b, tag: tag, into: &out, manifest: &manifest) { name, fields in step(name, fields) }
    }

    /// One step; an error says what did not happen.
    private func perform(_ s: Step, page: PageSession, proxy: RecordingProxy, options b: BrowserOptions) throws {
        func settle() {
            usleep(300_000)   // a click or key that navigates has started the navigation by now
            _ = page.waitUntilIdle(quietSeconds: b.quietSeconds, deadline: Date().addingTimeInterval(min(b.timeoutSeconds, 15))) { proxy.activity }
        }
        func notFound(_ what: String) -> EvidenceError {
            .dataError(zh: "页面上没有 \(Display.escape(what))", en: "nothing on the page matches \(Display.escape(what))")
        }
        switch s.kind {
        case .goto(let url):
            if let e = try page.navigate(url, timeout: b.timeoutSeconds) {
                throw EvidenceError.unavailable(zh: "无法打开 \(url)：\(e)", en: "could not load \(url): \(e)")
            }
            _ = page.waitUntilIdle(quietSeconds: b.quietSeconds, deadline: Date().addingTimeInterval(b.timeoutSeconds)) { proxy.activity }
        case .click(let sel):
            guard try page.click(selector: sel) else { throw notFound(sel) }
            settle()
        case .clickText(let t):
            guard try page.click(text: t) else { throw notFound(t) }
            settle()
        case .type(let sel, let text):
            guard try page.type(selector: sel, text: text) else { throw notFound(sel) }
        case .press(let key):
            try page.press(key)
            settle()
        case .scroll(let px):
            if let px { try page.scroll(by: px) } else { try page.scrollToBottom() }
            settle()
        case .waitFor(let what, let seconds), .waitForText(let what, let seconds):
            guard page.waitFor(what, deadline: Date().addingTimeInterval(Double(seconds))) else {
                throw EvidenceError.unavailable(zh: "\(seconds) 秒内未出现 \(Display.escape(what))", en: "\(Display.escape(what)) did not appear within \(seconds) s")
            }
        case .wait(let seconds):
            usleep(UInt32(seconds * 1_000_000))
        case .screenshot, .note:
            break
        }
    }
}
