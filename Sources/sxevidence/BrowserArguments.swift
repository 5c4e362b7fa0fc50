import ArgumentParser
import Foundation
import SXEvidenceCore

/// The browser options of `capture` (and of the other commands that load pages in Chromium).
struct BrowserArguments: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: """
        Load the page in headless Chromium through the recording proxy (the default when Chromium is \
        installed); --no-browser: libcurl only. 浏览器取证（默认）；--no-browser 仅用 libcurl。
        """)
    var browser: Bool?
    @Flag(help: "Same as --browser (kept for older scripts). 截图（同 --browser）。") var screenshot = false
    @Option(help: "The Chromium to use (default: chromium on PATH). 浏览器程序路径。") var chromium: String?
    @Flag(help: "Scroll to the bottom before the screenshots (lazy content). 滚动到底部。") var scroll = false
    @Option(name: .customLong("wait-for"), help: "Wait until this text or CSS selector is on the page. 等待文字或选择器出现。")
    var waitFor: String?
    @Option(help: "Network idle: seconds with no request in flight (default 0.5). 网络空闲判定（秒）。") var idle: Double = 0.5
    @Option(name: .customLong("full-page-cap"), help: "Full-page screenshot height cap, CSS pixels (default 20000). 整页截图高度上限。")
    var fullPageCap: Int = 20_000
    @Option(help: "Netscape cookie file for a logged-in session (values are not recorded, only their hashes). 登录 cookie 文件。")
    var cookies: String?
    @Option(help: "A Chromium profile folder prepared by the officer (logged in). 已登录的浏览器配置目录。") var profile: String?
    @Option(help: "Process capture: perform the steps in FILE (sxevidence-steps(5)) in one screen-recorded session. 过程取证步骤文件。")
    var steps: String?

    /// Whether the browser was asked for in so many words (its absence is then worth a warning).
    var explicitlyWanted: Bool { browser == true || screenshot || chromium != nil }

    /// The options, or nil for a libcurl-only capture: --no-browser, or no Chromium found.
    func resolve(timeout: Double) throws -> (options: BrowserOptions?, missing: Bool) {
        var list: [Step]?
        if let steps {
            let parsed = try Step.parse(try POSIXFile.readAll(steps))
            guard case .goto = parsed[0].kind else {
                throw usageError("步骤文件的第一步须为 goto（前往）", "the first step of a steps file must be goto")
            }
            guard browser != false else { throw usageError("--steps 需要浏览器，不能与 --no-browser 同用", "--steps needs the browser; it cannot go with --no-browser") }
            list = parsed
        }
        guard browser != false else { return (nil, false) }
        guard idle > 0, idle <= 60 else { throw usageError("--idle 须在 0 到 60 秒之间", "--idle must be more than 0 and at most 60 seconds") }
        guard (100...200_000).contains(fullPageCap) else {
            throw usageError("--full-page-cap 须在 100 到 200000 之间", "--full-page-cap must be 100 to 200000")
        }
        if let profile, !POSIXFile.isDirectory(profile) {
            throw usageError("--profile 不是目录：\(profile)", "--profile is not a folder: \(profile)")
        }
        var jar: [BrowserCookie] = []
        if let cookies { jar = try BrowserCookie.parseNetscape(try POSIXFile.readAll(cookies)) }
        guard let binary = Chromium.find(chromium) else {
            if list != nil {
                throw EvidenceError.unavailable(zh: "未找到 Chromium：过程取证需要浏览器", en: "no Chromium found: a process capture needs the browser")
            }
            return (nil, true)
        }
        var o = BrowserOptions(binary: binary)
        o.timeoutSeconds = timeout
        o.quietSeconds = idle
        o.scroll = scroll
        o.waitFor = waitFor
        o.maxFullPageHeight = fullPageCap
        o.cookies = jar
        o.profile = profile
        o.steps = list
        o.ffmpeg = Executables.find(["ffmpeg"])
        return (o, false)
    }
}
