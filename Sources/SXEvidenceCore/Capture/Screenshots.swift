import Foundation

/// Screenshots with headless Chromium, when one is installed. The browser loads the page itself
/// (a second fetch); its PNGs and PDF are stored as WARC resource records and hashed.
public struct ScreenshotTaker: Sendable {
    public let browser: String

    public struct Shot: Sendable {
        public var name: String
        public var contentType: String
        public var path: String
    }

    /// `--browser PATH`, else the first of chromium, chromium-browser, google-chrome on PATH.
    public static func find(_ explicit: String?) -> ScreenshotTaker? {
        if let explicit { return FileManager.default.isExecutableFile(atPath: explicit) ? ScreenshotTaker(browser: explicit) : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
                return ScreenshotTaker(browser: "\(dir)/\(name)")
            }
        }
        return nil
    }

    /// Viewport PNG (1280×800), full-page PNG (1280 wide, tall window) and PDF, in `dir`.
    func take(url: String, dir: String, insecure: Bool) -> ([Shot], [String]) {
        var shots: [Shot] = []
        var log: [String] = []
        var base = ["--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run", "--disable-extensions"]
        if getuid() == 0 { base.append("--no-sandbox") }   // Chromium refuses to run as root with its sandbox
        if insecure { base.append("--ignore-certificate-errors") }
        let jobs: [(String, String, String, [String])] = [
            ("screenshot-viewport.png", "image/png", "\(dir)/viewport.png", ["--window-size=1280,800", "--screenshot=\(dir)/viewport.png"]),
            ("screenshot-fullpage.png", "image/png", "\(dir)/fullpage.png", ["--window-size=1280,6000", "--screenshot=\(dir)/fullpage.png"]),
            ("page.pdf", "application/pdf", "\(dir)/page.pdf", ["--print-to-pdf=\(dir)/page.pdf", "--no-pdf-header-footer"]),
        ]
        for (name, type, out, args) in jobs {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: browser)
            p.arguments = base + args + [url]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            do {
                try p.run()
                let deadline = Date().addingTimeInterval(60)
                while p.isRunning && Date() < deadline { usleep(50_000) }
                if p.isRunning { p.terminate() }
                p.waitUntilExit()
            } catch {
                log.append("\(name): could not start \(browser): \(error)")
                continue
            }
            if FileManager.default.fileExists(atPath: out) {
                shots.append(Shot(name: name, contentType: type, path: out))
            } else {
                log.append("\(name): \(browser) exited \(p.terminationStatus) without output")
            }
        }
        return (shots, log)
    }

    /// Print a page (a local file URL) to PDF.
    func printPDF(url: String, out: String) -> Bool {
        var args = ["--headless", "--disable-gpu", "--no-first-run", "--disable-extensions", "--print-to-pdf=\(out)", "--no-pdf-header-footer"]
        if getuid() == 0 { args.append("--no-sandbox") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: browser)
        p.arguments = args + [url]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && Date() < deadline { usleep(50_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        return FileManager.default.fileExists(atPath: out)
    }
}
