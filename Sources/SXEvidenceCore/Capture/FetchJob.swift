/// A request for `Fetcher` to make: `tag` lets the caller know what it belongs to.
struct FetchJob {
    var url: String
    var tag: Int
    var verifyTLS: Bool = true
    var requisite: Bool = false
    /// A byte range ("start-end") for HLS EXT-X-BYTERANGE; the answer is then 206.
    var range: String? = nil
    var timeoutMs: Int? = nil
    /// Started before anything queued (playlist reloads must not wait behind segments).
    var urgent: Bool = false
}
