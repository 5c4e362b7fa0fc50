import Foundation

/// Headless Chromium for printing our own documents (the evidence certificate) to PDF. Evidence
/// pages are never loaded this way: a browser capture (`BrowserCapture`) renders only what the
/// recording proxy received.
public struct ScreenshotTaker: Sendable {
    public let browser: String

    /// `--browser PATH`, else the first of chromium, chromium-browser, google-chrome on PATH.
    public static func find(_ explicit: String?) -> ScreenshotTaker? {
        Chromium.find(explicit).map(ScreenshotTaker.init(browser:))
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
