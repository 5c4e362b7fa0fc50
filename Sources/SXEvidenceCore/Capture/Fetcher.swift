import Foundation
internal import CSXCurl

/// A request to make: `tag` lets the caller know what it belongs to.
struct FetchJob {
    var url: String
    var tag: Int
    var verifyTLS: Bool = true
    var requisite: Bool = false
    var range: String? = nil
    var timeoutMs: Int? = nil
    /// Started before anything queued (playlist reloads must not wait behind segments).
    var urgent: Bool = false
}

/// Runs transfers on the libcurl multi interface, at most `concurrency` at once. Completion
/// callbacks run on the calling thread and may schedule further jobs (redirect hops, requisites).
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
        guard let multi = curl_multi_init() else {
            throw EvidenceError(.internalError, zh: "libcurl 初始化失败", en: "libcurl multi handle could not be created")
        }
        defer { curl_multi_cleanup(multi) }
        var queue = initial[...]
        var active: [UnsafeMutableRawPointer: (CurlTransfer, FetchJob)] = [:]
        defer {
            for (h, _) in active { curl_multi_remove_handle(multi, h) }
        }
        var stopping = false
        while !queue.isEmpty || !active.isEmpty || (tick != nil && !stopping) {
            if let tick, !stopping {
                if let more = try tick() {
                    queue = (more.filter(\.urgent) + queue + more.filter { !$0.urgent })[...]
                } else {
                    stopping = true
                    queue = []
                }
                if stopping && cutOnStop {
                    for (h, (t, job)) in active {
                        curl_multi_remove_handle(multi, h)
                        t.finish(code: CURLE_OPERATION_TIMEDOUT)
                        if t.exchange.truncated == nil && !t.exchange.responseHead.isEmpty { t.exchange.truncated = "time" }
                        _ = try completed(job, t.exchange)
                    }
                    active.removeAll()
                }
            }
            while active.count < concurrency, let job = queue.popFirst() {
                nextID += 1
                var o = options
                if let ms = job.timeoutMs { o.totalTimeoutMs = ms }
                o.range = job.range
                let t = try CurlTransfer(url: job.url, options: o, verifyTLS: job.verifyTLS, tmpDir: tmpDir, id: nextID)
                t.exchange.started = UTCTime.now()
                curl_multi_add_handle(multi, t.handle)
                active[t.handle] = (t, job)
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let msg = curl_multi_info_read(multi, &left) {
                guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
                let key = easy
                guard let (t, job) = active.removeValue(forKey: key) else { continue }
                curl_multi_remove_handle(multi, easy)
                t.finish(code: sx_curl_msg_result(msg))
                if let w = t.writeFailed { throw w }
                let more = try completed(job, t.exchange)
                if !stopping { queue.append(contentsOf: more) }
            }
            if running > 0 || !active.isEmpty || tick != nil {
                curl_multi_poll(multi, nil, 0, 50, nil)
            }
        }
    }
}
