import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the officer asked to capture.
public struct CaptureRequest: Sendable {
    public var url: String
    public var caseID: String
    public var officer: String
    public var note: String?
    public var series: String?      // links the snapshots of one --every run
    public var snapshot: Int?

    public init(url: String, caseID: String, officer: String, note: String?, series: String? = nil, snapshot: Int? = nil) {
        self.url = url
        self.caseID = caseID
        self.officer = officer
        self.note = note
        self.series = series
        self.snapshot = snapshot
    }
}

/// What one capture produced, once its entry and checkpoint are durable.
public struct CaptureResult: Sendable {
    public var entry: LedgerEntry
    public var url: String
    public var finalURL: String
    public var status: Int
    public var outcome: String      // ok, http-error, truncated, failed
    public var error: String?
    public var warc: Artifact
    public var manifest: Artifact
    public var requisites: Int
    public var tlsWarning: String?
}

/// Web capture (`sxevidence capture`): fetch with libcurl (every redirect hop and requisite
/// recorded), write one WARC 1.1 file per capture, a canonical manifest, and one ledger entry.
public final class WebCapture {
    public let home: NodeHome
    let keys: NodeKeys
    public var options = FetchOptions()
    public var concurrency = 1
    public var requisites = false
    /// No Chromium was found for a browser capture: the manifest says the capture is libcurl-only.
    public var browserMissing = false

    public init(home: NodeHome, keys: NodeKeys) {
        self.home = home
        self.keys = keys
    }

    public static func method(_ allowInvalidTLS: Bool) -> String {
        "sxevidence capture: \(SXEvidence.curlVersion), HTTP/1.1, bytes stored as received (no transfer or content decoding), WARC 1.1"
            + (allowInvalidTLS ? "; invalid TLS certificates allowed and recorded" : "")
    }

    final class State {
        let request: CaptureRequest
        let start = UTCTime.now()
        var hops: [HTTPExchange] = []
        var requisites: [HTTPExchange] = []
        var tlsFailures: [HTTPExchange] = []
        var pending = 1
        var failure: String?
        /// Browser capture: what the page gave (screenshots, DOM, MHTML, PDF, text), the browser
        /// in the environment record, the browser's and the proxy's log, and the reason the
        /// browser part did not finish, if it did not.
        var browser: BrowserOutcome?
        init(_ r: CaptureRequest) { request = r }
    }

    /// Validate a URL before anything is fetched: http or https with a host.
    public static func validate(_ url: String) throws {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), u.host != nil, !(u.host ?? "").isEmpty else {
            throw EvidenceError(.usage, zh: "网址格式错误：\(url)", en: "malformed URL: \(url)")
        }
        guard scheme == "http" || scheme == "https" else {
            throw EvidenceError(.usage, zh: "不支持的协议 \(scheme)（仅 http、https）：\(url)", en: "unsupported scheme \(scheme) (http and https only): \(url)")
        }
    }

    public func run(_ requests: [CaptureRequest], committed: (CaptureResult) throws -> Void) throws {
        for r in requests { try Self.validate(r.url) }
        home.store.removeStaleTemporaries()
        let machine = EnvironmentRecord.machine()
        let states = requests.map(State.init)
        let fetcher = Fetcher(options: options, tmpDir: home.store.tmpDir, concurrency: concurrency)
        var jobs: [FetchJob] = []
        for (i, r) in requests.enumerated() { jobs.append(FetchJob(url: r.url, tag: i)) }
        var failure: Error?
        defer { for st in states { cleanup(st) } }
        // Finished captures are committed in batches (one flush of the store, one transaction, one
        // signed checkpoint), and reported only once committed.
        var ready: [(draft: EntryDraft, result: (LedgerEntry) -> CaptureResult)] = []
        var lastCommit = Date()
        func commit() throws {
            guard !ready.isEmpty else { return }
            try home.store.sync()
            let (entries, _) = try home.ledger.append(ready.map(\.draft), sign: keys.sign)
            let batch = zip(ready, entries).map { $0.result($1) }
            ready.removeAll()
            lastCommit = Date()
            for r in batch { try committed(r) }
        }
        try fetcher.run(jobs) { job, ex in
            let st = states[job.tag]
            var next: [FetchJob] = []
            if ex.responseHead.isEmpty && job.verifyTLS && options.allowInvalidTLS && Self.isTLSVerificationFailure(ex.curlCode) {
                st.tlsFailures.append(ex)
                var retry = job
                retry.verifyTLS = false
                next.append(retry)
            } else if job.requisite {
                st.requisites.append(ex)
            } else {
                st.hops.append(ex)
                if ex.isRedirect {
                    if st.hops.count > options.maxRedirects {
                        st.failure = "too many redirects (more than \(options.maxRedirects))"
                    } else if let loc = ex.location, let u = URL(string: loc, relativeTo: URL(string: ex.url))?.absoluteURL,
                              ["http", "https"].contains(u.scheme?.lowercased() ?? "") {
                        next.append(FetchJob(url: u.absoluteString, tag: job.tag))
                    } else {
                        st.failure = "redirect to an unusable Location: \(ex.location ?? "")"
                    }
                } else if requisites, ex.status == 200, let view = Decoding.view(of: ex) {
                    let type = ex.header("content-type")?.lowercased() ?? ""
                    let refs = type.contains("css") ? Requisites.fromCSS(view, base: ex.url)
                        : type.contains("html") || type.isEmpty ? Requisites.fromHTML(view, base: ex.url) : []
                    next += refs.map { FetchJob(url: $0, tag: job.tag, verifyTLS: true, requisite: true) }
                }
            }
            st.pending += next.count - 1
            if st.pending == 0 && failure == nil {
                do {
                    ready.append(try finalize(st, machine: machine))
                    cleanup(st)
                    if ready.count >= 64 || Date().timeIntervalSince(lastCommit) >= 0.5 { try commit() }
                } catch {
                    failure = error
                    throw error
                }
            }
            return next
        }
        if let failure { throw failure }
        try commit()
    }

    static func isTLSVerificationFailure(_ code: Int) -> Bool {
        // CURLE_PEER_FAILED_VERIFICATION (60), CURLE_SSL_CACERT_BADFILE (77) is a setup error, not the site's.
        code == 60 || code == 51
    }

    func cleanup(_ st: State) {
        for ex in st.hops + st.requisites + st.tlsFailures { if let p = ex.bodyPath { unlink(p) } }
        st.hops.removeAll()
        st.requisites.removeAll()
        st.tlsFailures.removeAll()
    }
}
