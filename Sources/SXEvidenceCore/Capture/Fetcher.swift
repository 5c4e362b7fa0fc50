import Foundation
internal import CSXCurl

/// A request to make: `tag` lets the caller know what it belongs to.
struct FetchJob {
    var url: String
    var tag: Int
    var verifyTLS: Bool = true
    var requisite: Bool = false
}

/// Runs transfers on the libcurl multi interface, at most `concurrency` at once. Completion
/// callbacks run on the calling thread and may schedule further jobs (redirect hops, requisites).
final class Fetcher {
    let options: FetchOptions
    let tmpDir: String
    let concurrency: Int
    private var nextID = 0

    init(options: FetchOptions, tmpDir: String, concurrency: Int) {
        self.options = options
        self.tmpDir = tmpDir
        self.concurrency = max(1, concurrency)
    }

    func run(_ initial: [FetchJob], completed: (FetchJob, HTTPExchange) throws -> [FetchJob]) throws {
        guard let multi = curl_multi_init() else {
            throw EvidenceError(.internalError, zh: "libcurl 初始化失败", en: "libcurl multi handle could not be created")
        }
        defer { curl_multi_cleanup(multi) }
        var queue = initial[...]
        var active: [UnsafeMutableRawPointer: (CurlTransfer, FetchJob)] = [:]
        defer {
            for (h, _) in active { curl_multi_remove_handle(multi, h) }
        }
        while !queue.isEmpty || !active.isEmpty {
            while active.count < concurrency, let job = queue.popFirst() {
                nextID += 1
                let t: CurlTransfer
                do {
                    t = try CurlTransfer(url: job.url, options: options, verifyTLS: job.verifyTLS, tmpDir: tmpDir, id: nextID)
                } catch {
                    throw error
                }
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
                queue.append(contentsOf: try completed(job, t.exchange))
            }
            if running > 0 || !active.isEmpty {
                curl_multi_poll(multi, nil, 0, 50, nil)
            }
        }
    }
}
