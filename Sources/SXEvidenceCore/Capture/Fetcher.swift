/// Runs evidence fetches on `CurlMulti`, at most `concurrency` at once. Completion callbacks run on
/// the calling thread and may schedule further jobs (redirect hops, requisites). Each hop is one
/// request (redirects are followed by the caller, so that every hop is recorded), sent and stored
/// as received: HTTP/1.1, no transfer or content decoding, the body streamed to a temporary file.
final class Fetcher {
    let options: FetchOptions
    let tmpDir: String
    let concurrency: Int
    private var nextID = 0
    /// When `tick` stops the loop: cut the transfers in flight (recorded as truncated by time).
    var cutOnStop = false

    init(options: FetchOptions, tmpDir: String, concurrency: Int) {
        self.options = options
        self.tmpDir = tmpDir
        self.concurrency = max(1, concurrency)
    }

    /// `tick`, when given, runs on every turn of the loop (about every 50 ms) to add timed jobs
    /// (playlist reloads); it returns nil to stop: queued jobs are dropped, transfers in flight finish.
    func run(_ initial: [FetchJob], completed: (FetchJob, HTTPExchange) throws -> [FetchJob],
             tick: (() throws -> [FetchJob]?)? = nil) throws {
        let multi = try CurlMulti()
        var queue = initial[...]
        var active: [Int: (job: FetchJob, body: CaptureBody)] = [:]
        var stopping = false
        while !queue.isEmpty || multi.count > 0 || (tick != nil && !stopping) {
            if let tick, !stopping {
                if let more = try tick() {
                    queue = (more.filter(\.urgent) + queue + more.filter { !$0.urgent })[...]
                } else {
                    stopping = true
                    queue = []
                }
                if stopping && cutOnStop {
                    for (id, response) in multi.cutAll() {
                        let (job, body) = active.removeValue(forKey: id)!
                        var ex = HTTPExchange(response, body: body)
                        if ex.truncated == nil && !ex.responseHead.isEmpty { ex.truncated = "time" }
                        _ = try completed(job, ex)
                    }
                }
            }
            while multi.count < concurrency, let job = queue.popFirst() {
                nextID += 1
                let body = CaptureBody(tmpDir: tmpDir, id: nextID, maxSize: options.maxSize)
                try multi.start(request(for: job), sink: body, tag: nextID)
                active[nextID] = (job, body)
            }
            for (id, response) in multi.perform() {
                let (job, body) = active.removeValue(forKey: id)!
                let ex = HTTPExchange(response, body: body)
                if let w = body.failure { throw w }
                let more = try completed(job, ex)
                if !stopping { queue.append(contentsOf: more) }
            }
            if multi.count > 0 || tick != nil { multi.wait(ms: 50) }
        }
    }

    /// One hop as a browser would ask for it, recorded in full.
    private func request(for job: FetchJob) -> HTTPRequest {
        var tls = options.tls
        tls.verifyPeer = job.verifyTLS
        tls.verifyHost = job.verifyTLS
        var r = HTTPRequest(.get, job.url, headers: [
            "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language: zh-CN,zh;q=0.9,en;q=0.5", "Accept-Encoding: gzip, deflate",
        ], tls: tls)
        r.connectTimeoutMs = options.connectTimeoutMs
        r.totalTimeoutMs = job.timeoutMs ?? options.totalTimeoutMs
        r.userAgent = options.userAgent
        r.range = job.range
        r.asReceived = true
        r.record = true
        return r
    }
}
