import ArgumentParser
import Foundation
import SXEvidenceCore

struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Capture web pages into WARC 1.1, one ledger entry per URL. 网页取证。",
        discussion: """
        With Chromium installed, each page is loaded once in headless Chromium whose every request goes \
        through sxevidence's recording proxy (libcurl, bytes kept exactly as received); the screenshots, \
        rendered DOM, MHTML, PDF and visible text come from that one load. --no-browser fetches with \
        libcurl alone. Each evidence ID is printed only after its entry and a signed checkpoint are \
        durable. A fetch that fails (DNS, refused connection, TLS, timeout) is recorded as evidence too, \
        and the command then exits 75.
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "URLs to capture (http or https). 网址。")
    var urls: [String] = []

    @Option(name: .customLong("case"), help: "Case number. 案件编号。") var caseID: String
    @Option(help: "Officer ID (制作人). 执法人员编号。") var officer: String
    @Option(help: "Free-text note. 备注。") var note: String?
    @Flag(help: "Also fetch what the page needs (img, css, js, iframe, CSS url()), one level. 同时抓取页面资源。")
    var requisites = false
    @OptionGroup var browserArguments: BrowserArguments
    @Option(help: "Read URLs, one per line, from FILE (- for standard input). 从文件读取网址。") var from: String?
    @Option(help: "Transfers at once (curl multi interface). 并发数。") var concurrency: Int = 4
    @Option(help: "Repeat the capture every DURATION (e.g. 10m, 30s) ... 定时重复。") var every: Seconds?
    @Option(help: "... this many times in all (with --every).") var count: Int = 1
    @Option(help: "Total time limit per transfer, seconds. 超时（秒）。") var timeout: Double = 120
    @Option(name: .customLong("connect-timeout"), help: "Connect time limit, seconds.") var connectTimeout: Double = 15
    @Option(name: .customLong("max-redirects"), help: "Redirect hops to follow. 最大重定向次数。") var maxRedirects: Int = 10
    @Option(name: .customLong("max-size"), help: "Largest body stored, bytes (suffixes K, M, G); beyond it the record is truncated.")
    var maxSize = ByteSize(bytes: 512 << 20)
    @Flag(name: .customLong("allow-invalid-tls"), help: "Capture a site whose certificate does not verify; the failure is recorded. 允许无效证书。")
    var allowInvalidTLS = false
    @Option(name: .customLong("ca-file"), help: "Trust the CA certificates in this PEM file instead of the system bundle.")
    var caFile: String?
    @Flag(help: "Also get an RFC 3161 token on each capture's manifest from the configured TSAs. 为取证清单申请时间戳。")
    var timestamp = false

    func run() throws {
        let c = global.console()
        try c.run {
            try Registrar.validate(caseID: caseID, officer: officer)
            var list = urls
            if let from {
                let reader = try LineReader(path: from)
                while let l = try reader.next() {
                    let t = l.trimmingCharacters(in: .whitespaces)
                    if !t.isEmpty && !t.hasPrefix("#") { list.append(t) }
                }
            }
            let (browser, missing) = try browserArguments.resolve(timeout: timeout)
            if let first = browser?.steps?.first, case .goto(let url) = first.kind {
                guard list.isEmpty, every == nil else {
                    throw usageError("--steps 不能与网址、--from 或 --every 同用", "--steps goes with no URL, --from or --every")
                }
                list = [url]
            }
            guard !list.isEmpty else { throw usageError("请给出网址，或用 --from 提供列表", "give URLs, or a list with --from") }
            for u in list { try WebCapture.validate(u) }
            guard concurrency >= 1, concurrency <= 64 else { throw usageError("--concurrency 须在 1 到 64 之间", "--concurrency must be 1 to 64") }
            guard maxRedirects >= 0 else { throw usageError("--max-redirects 不能为负", "--max-redirects must not be negative") }
            guard timeout > 0, connectTimeout > 0 else { throw usageError("超时须大于 0", "timeouts must be positive") }
            let limit = maxSize.bytes
            if every == nil && count != 1 {
                throw usageError("--count 须与 --every 一起使用", "--count needs --every")
            }
            var interval: Double?
            if let every {
                let s = every.value
                guard count >= 1 else { throw usageError("--count 须至少为 1", "--count must be at least 1") }
                interval = s
            }
            let home = try NodeHome.open(global.homePath)
            let capture = WebCapture(home: home, keys: try home.loadKeys())
            capture.options.totalTimeoutMs = Int(timeout * 1000)
            capture.options.connectTimeoutMs = Int(connectTimeout * 1000)
            capture.options.maxRedirects = maxRedirects
            capture.options.maxSize = limit
            capture.options.allowInvalidTLS = allowInvalidTLS
            capture.options.caBundle = caFile
            capture.concurrency = concurrency
            capture.requisites = requisites
            capture.browserMissing = missing
            if missing && browserArguments.explicitlyWanted {
                c.warn("未找到 Chromium，仅用 libcurl 取证、不截图（已记入清单）", "no Chromium found: libcurl-only capture, no screenshot (said in the manifest)")
            }
            var failed = 0
            var done = 0
            let rounds = interval == nil ? 1 : count
            let series = interval == nil ? nil : "series-\(UTCTime.now())"
            let total = list.count * rounds
            for round in 0..<rounds {
                let started = Date()
                let reqs = list.map { CaptureRequest(url: $0, caseID: caseID, officer: officer, note: note,
                                                     series: series, snapshot: series == nil ? nil : round + 1) }
                var stamped: [(String, [UInt8])] = []
                let report = { (r: CaptureResult) in
                    done += 1
                    if timestamp, let m = try? POSIXFile.readAll(home.store.path(forSHA256: r.manifest.sha256)) {
                        stamped.append(("manifest:" + r.entry.evidenceID, m))
                    }
                    c.endProgress()
                    if r.outcome != "ok" && r.outcome != "http-error" { failed += 1 }
                    if c.json {
                        c.emit(CaptureJSON(id: r.entry.evidenceID, url: r.url, finalURL: r.finalURL, status: r.status, outcome: r.outcome,
                                           warcSHA256: r.warc.sha256, warcSM3: r.warc.sm3, manifestSHA256: r.manifest.sha256,
                                           requisites: r.requisites, error: r.error, tlsWarning: r.tlsWarning))
                    } else {
                        let mark = r.outcome == "ok" ? "" : "  [\(r.outcome.uppercased()): \(r.error ?? "")]"
                        c.out("\(r.entry.evidenceID)\t\(r.status)\t\(r.url)\(mark)")
                        if let w = r.tlsWarning { c.warn("⚠ \(r.url)：TLS 证书校验失败，已按 --allow-invalid-tls 取证并记录", "⚠ \(r.url): \(w); captured under --allow-invalid-tls and recorded") }
                    }
                    c.progress(c.t("已完成 \(done)/\(total)", "\(done)/\(total) captured"))
                }
                if let browser {
                    try capture.runBrowser(reqs, browser: browser, committed: report)
                } else {
                    try capture.run(reqs, committed: report)
                }
                if timestamp {
                    let service = TimestampService(home: home)
                    if service.configured.isEmpty {
                        c.warn("未配置时间戳服务，--timestamp 被忽略", "no TSA configured; --timestamp ignored")
                    }
                    for (subject, bytes) in stamped where !service.configured.isEmpty {
                        for o in service.stamp(subject: subject, data: bytes) {
                            if !o.granted {
                                c.warn("⚠ \(subject) 的时间戳（\(o.algorithm)）待定：\(o.error ?? "")", "⚠ timestamp (\(o.algorithm)) for \(subject) pending: \(o.error ?? "")")
                            } else if let w = o.warning {
                                c.warn("⚠ \(subject) 的时间戳：\(w)", "⚠ timestamp for \(subject): \(w)")
                            }
                        }
                    }
                }
                stampLatestCheckpoint(c, home)
                if round + 1 < rounds, let interval {
                    let wait = interval - Date().timeIntervalSince(started)
                    if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                }
            }
            c.endProgress()
            if !c.json {
                c.warn("共取证 \(done) 个网址，其中 \(failed) 个抓取失败（失败也已记录为证据）",
                       "\(done) capture(s) recorded, \(failed) with a failed fetch (recorded as evidence)")
            }
            if failed > 0 { throw ExitCode(75) }
        }
    }
}

/// One capture as `capture --json` prints it (a line per URL).
struct CaptureJSON: Encodable {
    let id: String, url: String, finalURL: String, status: Int, outcome: String
    let warcSHA256: String, warcSM3: String, manifestSHA256: String, requisites: Int
    let error: String?, tlsWarning: String?
    enum CodingKeys: String, CodingKey {
        case id, url, finalURL = "final_url", status, outcome, warcSHA256 = "warc_sha256", warcSM3 = "warc_sm3"
        case manifestSHA256 = "manifest_sha256", requisites, error, tlsWarning = "tls_warning"
    }
}
