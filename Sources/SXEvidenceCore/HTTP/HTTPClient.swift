/// The one HTTP client of sxevidence, over libcurl: evidence fetching (through `CurlMulti`, see
/// `Fetcher`), node-to-node requests (`NodeClient`) and RFC 3161 requests (`TimestampService`)
/// all go through `CurlEasy`, with the same `TLSOptions`. One client performs one request at a
/// time and keeps its connection for the next; `sendAll` runs many at once.
public final class HTTPClient {
    private let easy: CurlEasy

    public init() throws {
        easy = try CurlEasy()
    }

    /// Send `request` and stream the body of the answer into `sink`. Throws the sink's failure
    /// when it stopped the transfer; any other failure to complete is in the response's `failure`
    /// and `error`, for the caller to word.
    public func send(_ request: HTTPRequest, to sink: HTTPBodySink) throws -> HTTPResponse {
        try easy.prepare(request, sink: sink)
        let r = easy.perform()
        if let f = sink.failure { throw f }
        return r
    }

    /// Send `request` and keep the answer in memory (`response.body`), refusing one of more than
    /// `limit` bytes (an error with code `dataError`).
    public func send(_ request: HTTPRequest, limit: Int) throws -> HTTPResponse {
        let sink = MemorySink(limit: limit, source: request.url)
        var r = try send(request, to: sink)
        r.body = sink.bytes
        return r
    }

    /// Send all `requests`, at most `concurrency` at a time on one multi handle, each answer kept
    /// in memory (at most `limit` bytes); results in the order of the requests.
    public static func sendAll(_ requests: [HTTPRequest], limit: Int, concurrency: Int) throws -> [Result<HTTPResponse, EvidenceError>] {
        let multi = try CurlMulti()
        var results = [Result<HTTPResponse, EvidenceError>?](repeating: nil, count: requests.count)
        var sinks: [Int: MemorySink] = [:]
        var next = 0
        while next < requests.count || multi.count > 0 {
            while multi.count < max(1, concurrency), next < requests.count {
                let sink = MemorySink(limit: limit, source: requests[next].url)
                do {
                    try multi.start(requests[next], sink: sink, tag: next)
                    sinks[next] = sink
                } catch {
                    results[next] = .failure(EvidenceError.wrap(error))
                }
                next += 1
            }
            for (tag, response) in multi.perform() {
                let sink = sinks.removeValue(forKey: tag)!
                if let f = sink.failure {
                    results[tag] = .failure(f)
                } else {
                    var r = response
                    r.body = sink.bytes
                    results[tag] = .success(r)
                }
            }
            if multi.count > 0 { multi.wait(ms: 50) }
        }
        return results.map { $0! }
    }
}
