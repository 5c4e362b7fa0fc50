import Foundation
internal import CSXCurl

/// Runs many transfers at once on one libcurl multi handle (which also keeps the connections for
/// reuse). Each transfer gets its own `CurlEasy`; results come back as `HTTPResponse`s with the
/// caller's tag. The caller drives it: `start`, then `perform` and `wait` in a loop.
final class CurlMulti {
    private let multi: UnsafeMutableRawPointer
    private var active: [UnsafeMutableRawPointer: (easy: CurlEasy, tag: Int)] = [:]

    init() throws {
        guard let m = curl_multi_init() else {
            throw EvidenceError.internalError(zh: "libcurl 初始化失败", en: "libcurl multi handle could not be created")
        }
        multi = m
    }

    deinit {
        for h in active.keys { curl_multi_remove_handle(multi, h) }
        active.removeAll()
        curl_multi_cleanup(multi)
    }

    /// Transfers in flight.
    var count: Int { active.count }

    /// Start `request`, its body going to `sink`.
    func start(_ request: HTTPRequest, sink: HTTPBodySink, tag: Int) throws {
        let easy = try CurlEasy()
        try easy.prepare(request, sink: sink)
        let rc = curl_multi_add_handle(multi, easy.handle)
        guard rc == CURLM_OK else {
            let msg = String(cString: curl_multi_strerror(rc))
            throw EvidenceError.internalError(zh: "libcurl 无法开始传输：\(msg)", en: "libcurl could not start a transfer: \(msg)")
        }
        active[easy.handle] = (easy, tag)
    }

    /// Move every transfer along as far as it can go without waiting; return those that ended.
    func perform() -> [(tag: Int, response: HTTPResponse)] {
        var running: Int32 = 0
        curl_multi_perform(multi, &running)
        var done: [(tag: Int, response: HTTPResponse)] = []
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            guard msg.pointee.msg == CURLMSG_DONE, let h = msg.pointee.easy_handle,
                  let (easy, tag) = active.removeValue(forKey: h) else { continue }
            let code = sx_curl_msg_result(msg)
            curl_multi_remove_handle(multi, h)
            done.append((tag, easy.finish(code)))
        }
        return done
    }

    /// Wait up to `ms` milliseconds for activity on any transfer.
    func wait(ms: Int32) {
        curl_multi_poll(multi, nil, 0, ms, nil)
    }

    /// End every transfer in flight now, each recorded as timed out.
    func cutAll() -> [(tag: Int, response: HTTPResponse)] {
        var out: [(tag: Int, response: HTTPResponse)] = []
        for (h, (easy, tag)) in active {
            curl_multi_remove_handle(multi, h)
            out.append((tag, easy.finishCut()))
        }
        active.removeAll()
        return out
    }
}
