import SXEvidenceCore

/// `sxbench tsa-http`: RFC 3161 requests exactly as `TimestampService` sends them, over the one
/// HTTP client, `concurrency` at a time on one multi handle. Bodies of 200 answers come back in
/// request order; a failed request gives an empty body.
enum TSAHTTPBench {
    static func post(_ bodies: [[UInt8]], url: String, concurrency: Int) throws -> [[UInt8]] {
        let requests = bodies.map { TimestampService.request($0, to: url) }
        return try HTTPClient.sendAll(requests, limit: TimestampService.maxAnswer, concurrency: concurrency).map { result in
            guard case .success(let r) = result, r.error == nil, r.status == 200 else { return [] }
            return r.body
        }
    }
}
