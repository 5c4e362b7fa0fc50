/// Streams a body to an open file descriptor (not closed here), at most `limit` bytes.
public final class FileSink: HTTPBodySink {
    public let fd: Int32
    /// The file's name, for errors.
    public let path: String
    public let limit: Int64
    /// Named in the error when the limit is exceeded.
    public let source: String
    public private(set) var written: Int64 = 0
    public private(set) var failure: EvidenceError?

    public init(fd: Int32, path: String, limit: Int64, source: String) {
        self.fd = fd
        self.path = path
        self.limit = limit
        self.source = source
    }

    public func receive(_ chunk: UnsafeRawBufferPointer, head: [UInt8]) -> Bool {
        guard written + Int64(chunk.count) <= limit else {
            failure = .dataError(zh: "\(source) 的应答超过 \(limit) 字节", en: "answer from \(source) exceeds \(limit) bytes")
            return false
        }
        do {
            try POSIXFile.writeAll(fd: fd, chunk, path: path)
        } catch {
            failure = EvidenceError.wrap(error)
            return false
        }
        written += Int64(chunk.count)
        return true
    }
}
