import Foundation

/// What a process capture does to the page (sxevidence-steps(5)): clicks, typing, keys, scrolling,
/// and the screencast that feeds the screen recording.
extension PageSession {
    static func js(_ s: String) -> String { String(decoding: CanonicalValue.string(s).canonicalBytes, as: UTF8.self) }

    /// Click the first element matching `selector`, scrolled into view; false when none matches.
    public func click(selector: String) throws -> Bool {
        try evaluate("""
            (() => { const e = document.querySelector(\(Self.js(selector))); if (!e) return false;
              e.scrollIntoView({block: 'center'}); e.click(); return true; })()
            """).bool ?? false
    }

    /// Click the smallest visible element whose text contains `text` (links and buttons first).
    public func click(text: String) throws -> Bool {
        try evaluate("""
            (() => { const t = \(Self.js(text)); const all = Array.from(document.querySelectorAll('a,button,input[type=submit],[role=button],*'));
              const hit = all.filter(e => (e.innerText || e.value || '').includes(t) && e.offsetParent !== null)
                .sort((a, b) => (a.innerText || '').length - (b.innerText || '').length)[0];
              if (!hit) return false; hit.scrollIntoView({block: 'center'}); hit.click(); return true; })()
            """).bool ?? false
    }

    /// Focus `selector` and type `text` as keyboard input; false when nothing matches.
    public func type(selector: String, text: String) throws -> Bool {
        let found = try evaluate("""
            (() => { const e = document.querySelector(\(Self.js(selector))); if (!e) return false; e.focus(); return true; })()
            """).bool ?? false
        if found { try call("Input.insertText", ["text": .s(text)]) }
        return found
    }

    /// Press and release a key (one of `Step.keys`).
    public func press(_ key: String) throws {
        let codes: [String: Int] = ["Enter": 13, "Tab": 9, "Escape": 27, "Backspace": 8, "Delete": 46, "Space": 32, "ArrowUp": 38,
                                    "ArrowDown": 40, "ArrowLeft": 37, "ArrowRight": 39, "PageUp": 33, "PageDown": 34, "Home": 36, "End": 35]
        let name = key == "Space" ? " " : key
        var down: [String: DevToolsParam] = ["type": .s("keyDown"), "key": .s(name), "code": .s(key == "Space" ? "Space" : key),
                                             "windowsVirtualKeyCode": .i(codes[key] ?? 0)]
        if key == "Enter" { down["text"] = .s("\r") }
        if key == "Space" { down["text"] = .s(" ") }
        try call("Input.dispatchKeyEvent", down)
        down["type"] = .s("keyUp")
        down["text"] = nil
        try call("Input.dispatchKeyEvent", down)
    }

    public func scroll(by pixels: Int) throws {
        _ = try evaluate("window.scrollBy(0, \(pixels)); true")
    }

    /// Screencast frames (JPEG) to `frame`, the main frame's URL to `url`, until `stopScreencast`.
    public func startScreencast(frame: @escaping @Sendable ([UInt8]) -> Void, url: @escaping @Sendable (String) -> Void) throws {
        let session = self.session
        let devtools = self.devtools
        devtools.onEvent { method, sid, params in
            guard sid == session else { return }
            if method == "Page.screencastFrame" {
                if let n = params["sessionId"]?.int { devtools.send("Page.screencastFrameAck", ["sessionId": .i(Int(n))], session: session) }
                if let d = params["data"]?.string, let bytes = Data(base64Encoded: d) { frame([UInt8](bytes)) }
            } else if method == "Page.frameNavigated", params["frame"]?["parentId"] == nil, let u = params["frame"]?["url"]?.string {
                url(u)
            }
        }
        try call("Page.startScreencast", ["format": .s("jpeg"), "quality": .i(70), "maxWidth": .i(width), "maxHeight": .i(height),
                                          "everyNthFrame": .i(1)])
    }

    public func stopScreencast() {
        _ = try? call("Page.stopScreencast", timeout: 5)
    }
}
