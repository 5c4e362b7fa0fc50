import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How `capture --browser` loads a page.
public struct BrowserOptions: Sendable {
    public var binary: String
    /// The whole load: navigation, network idle, scrolling and --wait-for.
    public var timeoutSeconds: Double = 60
    /// Network idle: no request in flight at the proxy for this long.
    public var quietSeconds: Double = 0.5
    public var scroll = false
    public var waitFor: String?
    /// The full-page screenshot's height cap in CSS pixels (recorded when it cuts).
    public var maxFullPageHeight = 20_000
    public var cookies: [BrowserCookie] = []
    /// `--profile DIR`: a Chromium profile the officer prepared (a logged-in session).
    public var profile: String?
    public var width = 1280
    public var height = 800
    /// `--steps FILE`: a process capture (sxevidence-steps(5)) instead of one load of one URL.
    public var steps: [Step]?
    /// ffmpeg for the screen recording of a process capture (none: no recording, said so).
    public var ffmpeg: String?

    public init(binary: String) { self.binary = binary }
}

/// A file the browser made from the load (screenshot, DOM, MHTML, PDF, text).
struct BrowserArtifact {
    var name: String
    var contentType: String
    var path: String
}

/// What a browser load adds to a capture, for `finalize`.
struct BrowserOutcome {
    var artifacts: [BrowserArtifact] = []
    var note = ""
    var environment: [String: CanonicalValue] = [:]
    var log: [String: CanonicalValue] = [:]
    var manifest: [String: CanonicalValue] = [:]
    var method = ""
    /// Why the browser part did not finish (outcome "incomplete").
    var error: String?
    var shownCertificatesPEM: String?
    /// A tunnel whose upstream did not verify, taken under --allow-invalid-tls.
    var tlsWarning: String?
    /// More metadata records for the WARC (the step log of a process capture): URI and block.
    var records: [(uri: String, block: [UInt8])] = []
}

extension WebCapture {
    /// Browser capture (sxevidence-capture(5), BROWSER CAPTURE): each URL is loaded once by a fresh
    /// headless Chromium whose every request goes through the recording proxy; the screenshots,
    /// DOM, MHTML, PDF and text come from that one load; the WARC holds what the proxy received.
    /// One entry per URL, committed before it is reported.
    public func runBrowser(_ requests: [CaptureRequest], browser: BrowserOptions, committed: (CaptureResult) throws -> Void) throws {
        for r in requests { try Self.validate(r.url) }
        home.store.removeStaleTemporaries()
        let machine = EnvironmentRecord.machine()
        for r in requests {
            let st = State(r)
            defer { cleanup(st) }
            try load(st, browser)
            let (draft, result) = try finalize(st, machine: machine)
            try home.store.sync()
            let (entries, _) = try home.ledger.append([draft], sign: keys.sign)
            try committed(result(entries[0]))
        }
    }

    public static func browserMethod(_ product: String, allowInvalidTLS: Bool) -> String {
        "sxevidence capture --browser: \(product) loading the page once through the sxevidence recording proxy; upstream "
            + "\(SXEvidence.curlVersion), HTTP/1.1, bytes stored as received (no transfer or content decoding), WARC 1.1"
            + (allowInvalidTLS ? "; invalid TLS certificates allowed and recorded" : "")
    }

    func load(_ st: State, _ b: BrowserOptions) throws {
        let tmp = home.store.tmpDir
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let work = "\(tmp)/\(tag).browser"
        try POSIXFile.mkdirs(work, mode: 0o700)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let ca = try InterceptionCA()
        let proxy = try RecordingProxy(options: options, tmpDir: tmp, ca: ca)
        var out = BrowserOutcome()
        var launch = Chromium.Launch(proxyPort: proxy.port, trustedSPKI: ca.leafSPKISHA256Base64, userDataDir: b.profile ?? "\(work)/profile")
        launch.preparedProfile = b.profile != nil
        launch.width = b.width
        launch.height = b.height
        var steps: [CanonicalValue] = []
        func step(_ name: String, _ fields: [String: CanonicalValue] = [:]) {
            steps.append(.object(fields.merging(["step": .string(name), "time": .string(UTCTime.now())]) { a, _ in a }))
        }
        var env: [String: CanonicalValue] = [
            "binary": .string(b.binary), "flags": .strings(Chromium.flags(launch)), "devtools": .string("pipe (--remote-debugging-pipe)"),
            "profile": .string(b.profile.map { "prepared: \($0)" } ?? "fresh (made for this capture, removed after it)"),
            "extensions": .string("none (--disable-extensions)"),
            "viewport": .object(["width": .int(Int64(b.width)), "height": .int(Int64(b.height))]), "device_scale_factor": .int(1),
            "interception_ca_sha256": .string(ca.caFingerprintSHA256), "trusted_spki_sha256_base64": .string(ca.leafSPKISHA256Base64),
        ]
        var manifest: [String: CanonicalValue] = ["scrolled": .bool(b.scroll), "timeout_seconds": .int(Int64(b.timeoutSeconds)),
                                                  "idle_quiet_ms": .int(Int64(b.quietSeconds * 1000))]
        if let w = b.waitFor { manifest["wait_for"] = .string(w) }
        if b.profile != nil || !b.cookies.isEmpty {
            manifest["session"] = .object(["profile": .optional(b.profile), "cookies": .array(b.cookies.map(\.recorded))])
        }
        var product = "Chromium"
        var chrome: Chromium?
        do {
            let c = try Chromium(binary: b.binary, launch: launch, logPath: "\(work)/chromium.log")
            chrome = c
            let v = try c.devtools.call("Browser.getVersion")
            product = v["product"]?.string ?? product
            let digests = c.binaryDigests()
            env["version"] = .string(product)
            env["user_agent"] = .optional(v["userAgent"]?.string)
            env["protocol_version"] = .optional(v["protocolVersion"]?.string)
            env["revision"] = .optional(v["revision"]?.string)
            env["binary_sha256"] = .optional(digests.started)
            env["executable"] = .optional(digests.runningPath)
            env["executable_sha256"] = .optional(digests.running)
            let page = try PageSession(chrome: c, width: b.width, height: b.height)
            try page.setCookies(b.cookies)
            step("start", ["pid": .int(Int64(c.pid))])
            let deadline = Date().addingTimeInterval(b.timeoutSeconds)
            if let steps = b.steps {
                try performSteps(steps, page: page, proxy: proxy, options: b, tag: tag, work: work, into: &out, manifest: &manifest, step: step)
            } else if let e = try page.navigate(st.request.url, timeout: b.timeoutSeconds) {
                out.error = "the browser could not load the page: \(e)"
                step("navigate", ["url": .string(st.request.url), "error": .string(e)])
            } else {
                step("navigate", ["url": .string(st.request.url)])
                var idle = page.waitUntilIdle(quietSeconds: b.quietSeconds, deadline: deadline) { proxy.activity }
                step("network-idle", ["reached": .bool(idle)])
                if b.scroll {
                    try page.scrollToBottom()
                    idle = page.waitUntilIdle(quietSeconds: b.quietSeconds, deadline: deadline) { proxy.activity }
                    step("scrolled", ["network_idle_after": .bool(idle)])
                }
                manifest["network_idle"] = .bool(idle)
                if !idle { manifest["network_idle_note"] = .string("requests were still in flight when --timeout ended the wait") }
                if let w = b.waitFor {
                    let found = page.waitFor(w, deadline: deadline)
                    step("wait-for", ["target": .string(w), "found": .bool(found)])
                    if !found { out.error = "--wait-for: \(w) did not appear within \(Int(b.timeoutSeconds)) s" }
                }
                try takeArtifacts(page, b, tag: tag, into: &out, manifest: &manifest, step: step)
            }
            manifest["final_url_in_browser"] = .string(page.location)
        } catch {
            let e = EvidenceError.wrap(error)
            let gone = chrome.map { !$0.isRunning } ?? true
            out.error = (gone ? "the browser exited during the capture: " : "") + e.en
            step("error", ["error": .string(e.en), "browser_running": .bool(!gone)])
        }
        if let c = chrome {
            env["log_tail"] = .string(c.lastLog())
            c.stop()
        }
        let stopped = proxy.stop()
        ca.discard()
        out.shownCertificatesPEM = ([ca.caCertificatePEM] + stopped.leaves.sorted { $0.key < $1.key }.map(\.value)).joined()
        out.environment = env
        out.log = ["steps": .array(steps), "proxy_events": .array(stopped.events),
                   "proxy_connections": .int(Int64(stopped.connections))]
        manifest["proxied_exchanges"] = .int(Int64(stopped.exchanges.count))
        out.manifest = manifest
        out.method = Self.browserMethod(product, allowInvalidTLS: options.allowInvalidTLS)
        out.note = out.artifacts.isEmpty ? "browser capture made no screenshot: \(out.error ?? "")"
            : "from the one load in \(product) through the recording proxy"
        let pageHost = URL(string: st.request.url)?.host?.lowercased()
        let hostEvents = stopped.events.compactMap { e -> [String: CanonicalValue]? in
            guard case .object(let o) = e, o["host"]?.string?.lowercased() == pageHost else { return nil }
            return o
        }
        if let w = hostEvents.compactMap({ $0["upstream_verification_failed"]?.string }).first {
            out.tlsWarning = "TLS certificate verification failed: \(w)"
        }
        st.browser = out
        split(stopped.exchanges, into: st)
        if st.hops.isEmpty, let refused = hostEvents.first(where: { $0["kind"]?.string == "tunnel-refused" }) {
            // The page itself never got a request through: the upstream connection is why.
            st.failure = "the connection to \(pageHost ?? "") failed: \(refused["error"]?.string ?? "")"
        }
    }

    /// Everything taken from the loaded page, each on its own: one that fails is noted and the
    /// rest are still taken, unless the browser has gone.
    func takeArtifacts(_ page: PageSession, _ b: BrowserOptions, tag: String, into out: inout BrowserOutcome,
                               manifest: inout [String: CanonicalValue], step: (String, [String: CanonicalValue]) -> Void) throws {
        var failures: [String] = []
        func keep(_ name: String, _ type: String, _ make: () throws -> [UInt8]) throws {
            do {
                let bytes = try make()
                let path = "\(home.store.tmpDir)/\(tag).\(name)"
                try POSIXFile.writeAtomically(path, bytes, mode: 0o600)
                out.artifacts.append(BrowserArtifact(name: name, contentType: type, path: path))
                step("artifact", ["name": .string(name), "size": .int(Int64(bytes.count))])
            } catch {
                if page.devtools.isClosed { throw error }
                failures.append("\(name): \(EvidenceError.wrap(error).en)")
            }
        }
        try keep("screenshot-viewport.png", "image/png") { try page.viewportScreenshot() }
        try keep("screenshot-fullpage.png", "image/png") {
            let f = try page.fullPageScreenshot(maxHeight: b.maxFullPageHeight)
            manifest["full_page"] = .object(["width": .int(Int64(f.width)), "height": .int(Int64(f.height)),
                                             "content_height": .int(Int64(f.contentHeight)), "capped": .bool(f.capped),
                                             "cap": .int(Int64(b.maxFullPageHeight))])
            return f.png
        }
        try keep("dom.html", "text/html; charset=utf-8") { Array(try page.dom().utf8) }
        try keep("page.mhtml", "multipart/related") { try page.mhtml() }
        try keep("text.txt", "text/plain; charset=utf-8") { Array(try page.visibleText().utf8) }
        try keep("page.pdf", "application/pdf") { try page.pdf() }
        if !failures.isEmpty {
            manifest["artifact_failures"] = .strings(failures)
            out.error = out.error ?? "not every artifact could be taken: " + failures.joined(separator: "; ")
        }
    }

    /// The page's own hops (the requested URL and the redirects from it) and everything else the
    /// page asked for.
    private func split(_ exchanges: [HTTPExchange], into st: State) {
        var rest = exchanges
        var next: String? = Self.comparable(st.request.url)
        while let u = next, st.hops.count <= options.maxRedirects, let i = rest.firstIndex(where: { Self.comparable($0.url) == u }) {
            let ex = rest.remove(at: i)
            st.hops.append(ex)
            next = ex.isRedirect ? ex.location.flatMap { URL(string: $0, relativeTo: URL(string: ex.url))?.absoluteString }.flatMap(Self.comparable) : nil
        }
        st.requisites = rest
    }

    /// A URL as the browser sends it: scheme and host in lower case, an empty path as "/", no fragment.
    static func comparable(_ url: String) -> String? {
        guard var c = URLComponents(string: url) else { return nil }
        c.scheme = c.scheme?.lowercased()
        c.host = c.host?.lowercased()
        if c.path.isEmpty { c.path = "/" }
        c.fragment = nil
        if (c.scheme == "http" && c.port == 80) || (c.scheme == "https" && c.port == 443) { c.port = nil }
        return c.string
    }
}
