import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One page (a DevTools target and its flattened session) of the capture's browser: navigation,
/// waiting, scrolling and everything taken from the loaded page. Every artifact comes from the
/// page as it is loaded now; nothing is loaded a second time.
public final class PageSession: @unchecked Sendable {
    let chrome: Chromium
    public let session: String
    public let width: Int
    public let height: Int
    var devtools: DevTools { chrome.devtools }

    public init(chrome: Chromium, width: Int = 1280, height: Int = 800, scale: Int = 1) throws {
        self.chrome = chrome
        self.width = width
        self.height = height
        let created = try chrome.devtools.call("Target.createTarget", ["url": .s("about:blank")])
        guard let target = created["targetId"]?.string else { throw DevTools.gone("Target.createTarget") }
        let attached = try chrome.devtools.call("Target.attachToTarget", ["targetId": .s(target), "flatten": .b(true)])
        guard let s = attached["sessionId"]?.string else { throw DevTools.gone("Target.attachToTarget") }
        session = s
        try call("Page.enable")
        try call("Network.enable")
        // A service worker would answer from its own cache, out of the proxy's sight.
        try call("Network.setBypassServiceWorker", ["bypass": .b(true)])
        try call("Emulation.setDeviceMetricsOverride", ["width": .i(width), "height": .i(height),
                                                         "deviceScaleFactor": .i(scale), "mobile": .b(false)])
    }

    @discardableResult
    public func call(_ method: String, _ params: [String: DevToolsParam] = [:], timeout: Double = 30) throws -> MiniJSON {
        try devtools.call(method, params, session: session, timeout: timeout)
    }

    /// Navigate; the browser's error text when the navigation itself failed (net::ERR_…).
    public func navigate(_ url: String, timeout: Double) throws -> String? {
        let r = try call("Page.navigate", ["url": .s(url)], timeout: timeout)
        return r["errorText"]?.string.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Evaluate an expression in the page (promises awaited) and return its value.
    public func evaluate(_ expression: String, timeout: Double = 30) throws -> MiniJSON {
        let r = try call("Runtime.evaluate", ["expression": .s(expression), "returnByValue": .b(true),
                                              "awaitPromise": .b(true)], timeout: timeout)
        if let ex = r["exceptionDetails"] {
            let text = Display.escape(ex["exception"]?["description"]?.string ?? ex["text"]?.string ?? "exception")
            throw EvidenceError.dataError(zh: "页面脚本出错：\(text)", en: "page script failed: \(text)")
        }
        return r["result"]?["value"] ?? .null
    }

    public var location: String { (try? evaluate("location.href").string) ?? nil ?? "" }

    /// Wait until the document is complete and the proxy has had no request in flight for
    /// `quietSeconds`; false when `deadline` came first (a page that keeps polling).
    public func waitUntilIdle(quietSeconds: Double, deadline: Date, activity: () -> (inFlight: Int, quietSeconds: Double)) -> Bool {
        while Date() < deadline {
            let a = activity()
            if a.inFlight == 0 && a.quietSeconds >= quietSeconds,
               (try? evaluate("document.readyState", timeout: 5).string) == "complete" {
                return true
            }
            if chrome.devtools.isClosed { return false }
            usleep(100_000)
        }
        return false
    }

    /// Scroll to the bottom a viewport at a time (lazy content loads on the way), at most
    /// `maxSteps`, then back to the top.
    public func scrollToBottom(maxSteps: Int = 200) throws {
        _ = try evaluate("""
            (async () => { for (let i = 0; i < \(maxSteps); i++) {
              const before = window.scrollY; window.scrollBy(0, window.innerHeight);
              await new Promise(r => setTimeout(r, 150));
              if (window.scrollY === before) break; }
              window.scrollTo(0, 0); await new Promise(r => setTimeout(r, 150)); return true; })()
            """, timeout: Double(maxSteps) * 0.5 + 10)
    }

    /// Wait for a selector that matches, or for text in the page, until `deadline`.
    public func waitFor(_ what: String, deadline: Date) -> Bool {
        let q = String(decoding: CanonicalValue.string(what).canonicalBytes, as: UTF8.self)
        let js = "(() => { try { if (document.querySelector(\(q))) return true; } catch (e) {} return (document.body ? document.body.innerText : '').includes(\(q)); })()"
        while Date() < deadline {
            if (try? evaluate(js, timeout: 5).bool) == true { return true }
            if chrome.devtools.isClosed { return false }
            usleep(200_000)
        }
        return false
    }

    static func decode(_ v: MiniJSON?, _ what: String) throws -> [UInt8] {
        guard let s = v?.string, let d = Data(base64Encoded: s) else {
            throw EvidenceError.dataError(zh: "浏览器返回的\(what)无法解码", en: "the browser's \(what) could not be decoded")
        }
        return [UInt8](d)
    }

    /// PNG of the viewport.
    public func viewportScreenshot(timeout: Double = 60) throws -> [UInt8] {
        try Self.decode(try call("Page.captureScreenshot", ["format": .s("png")], timeout: timeout)["data"], "screenshot")
    }

    /// PNG of the whole page (DevTools captureBeyondViewport, sized from the layout metrics),
    /// its height capped at `maxHeight` CSS pixels; the size and whether it was cut are returned.
    public func fullPageScreenshot(maxHeight: Int) throws -> (png: [UInt8], width: Int, height: Int, contentHeight: Int, capped: Bool) {
        let m = try call("Page.getLayoutMetrics")
        let size = m["cssContentSize"] ?? m["contentSize"]
        let w = max(1, min(Int(size?["width"]?.int ?? Int64(width)), 16384))
        let contentHeight = max(1, Int(size?["height"]?.int ?? Int64(height)))
        let h = min(contentHeight, maxHeight)
        let r = try call("Page.captureScreenshot", ["format": .s("png"), "captureBeyondViewport": .b(true),
                                                    "clip": .o(["x": .i(0), "y": .i(0), "width": .i(w), "height": .i(h), "scale": .i(1)])],
                         timeout: 120)
        return (try Self.decode(r["data"], "screenshot"), w, h, contentHeight, contentHeight > maxHeight)
    }

    /// MHTML snapshot of the page (from the browser's memory of the load).
    public func mhtml() throws -> [UInt8] {
        guard let s = try call("Page.captureSnapshot", ["format": .s("mhtml")], timeout: 120)["data"]?.string else {
            throw EvidenceError.dataError(zh: "浏览器未返回 MHTML", en: "the browser returned no MHTML")
        }
        return Array(s.utf8)
    }

    /// An A4 PDF of the page (backgrounds printed, no header or footer).
    public func pdf() throws -> [UInt8] {
        try Self.decode(try call("Page.printToPDF", ["paperWidth": .d(8.27), "paperHeight": .d(11.69), "printBackground": .b(true),
                                                     "displayHeaderFooter": .b(false)], timeout: 120)["data"], "PDF")
    }

    /// The rendered DOM, serialised with its doctype.
    public func dom() throws -> String {
        try evaluate("(document.doctype ? new XMLSerializer().serializeToString(document.doctype) + '\\n' : '') + document.documentElement.outerHTML",
                     timeout: 60).string ?? ""
    }

    /// The page's visible text (innerText of the body).
    public func visibleText() throws -> String {
        try evaluate("document.body ? document.body.innerText : ''", timeout: 60).string ?? ""
    }

    /// Cookies into the browser before the first navigation (`--cookies`).
    public func setCookies(_ cookies: [BrowserCookie]) throws {
        guard !cookies.isEmpty else { return }
        try call("Network.setCookies", ["cookies": .a(cookies.map { c in
            var o: [String: DevToolsParam] = ["name": .s(c.name), "value": .s(c.value), "domain": .s(c.domain),
                                              "path": .s(c.path), "secure": .b(c.secure), "httpOnly": .b(c.httpOnly)]
            if c.expires > 0 { o["expires"] = .i(Int(c.expires)) }
            return .o(o)
        })])
    }
}
