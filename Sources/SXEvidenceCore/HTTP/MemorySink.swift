/// Keeps a small body in memory, at most `limit` bytes: a longer answer stops the transfer and is
/// an error, so an unexpected answer cannot grow without bound.
public final class MemorySink: HTTPBodySink {
    public let limit: Int
    /// Named in the error (a URL or a peer).
    public let source: String
    public private(set) var bytes: [UInt8] = []
    public private(set) var failure: EvidenceError?

    public init(limit: Int, source: String) {
        self.limit = limit
        self.source = source
    }

    public func receive(_ chunk: UnsafeRawBufferPointer, head: [UInt8]) -> Bool {
        guard bytes.count + chunk.count <= limit else {
            failure = .dataError(zh: "\(source) 的应答超过 \(limit) 字节", en: "answer from \(source) exceeds \(limit) bytes")
            return false
        }
        bytes.append(contentsOf: chunk)
        return true
    }
}
