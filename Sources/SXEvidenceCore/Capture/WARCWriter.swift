import CompressNIO
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Writes WARC 1.1 records, each its own gzip member, to a file (sxevidence-capture(5), WARC).
/// Blocks are streamed from disk, so a large response never sits in memory.
final class WARCWriter {
    let path: String
    private let fd: Int32
    /// Every record written, with where its gzip member lies in the file (for CDXJ indexes, WACZ).
    struct RecordInfo {
        var id: String
        var type: String
        var uri: String?
        var blockSHA256: String
        var date: String
        var offset: Int64
        var length: Int64
        var status: Int?          // response records: HTTP status
        var mime: String?         // response records: Content-Type of the payload
        var payloadSHA256: String?
    }
    private(set) var records: [RecordInfo] = []
    private var written: Int64 = 0
    /// One deflate state for the whole file, reset between records (each record is its own gzip member).
    private let compressor: NIOCompressor

    init(path: String) throws {
        self.path = path
        compressor = CompressionAlgorithm.gzip(configuration: .init(compressionLevel: 6)).compressor
        try compressor.startStream()
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXFile.ioError(zh: "无法创建 WARC 文件", en: "cannot create the WARC file", path) }
    }

    deinit {
        try? compressor.finishStream()
        close(fd)
    }

    static func newRecordID() -> String { "<urn:uuid:\(UUID().uuidString.lowercased())>" }

    /// Header fields in order; WARC-Type, WARC-Record-ID, WARC-Date, Content-Length and the block digest
    /// are added here. `block` is the head (in memory) followed by an optional file streamed from disk.
    @discardableResult
    func write(type: String, id: String = WARCWriter.newRecordID(), date: String, uri: String?, fields: [(String, String)],
               head: [UInt8], bodyPath: String? = nil, bodySize: Int64 = 0, blockSHA256: [UInt8]) throws -> String {
        var h = "WARC/1.1\r\nWARC-Type: \(type)\r\nWARC-Record-ID: \(id)\r\nWARC-Date: \(date)\r\n"
        if let uri { h += "WARC-Target-URI: \(uri)\r\n" }
        for (k, v) in fields { h += "\(k): \(v)\r\n" }
        let length = Int64(head.count) + bodySize
        h += "WARC-Block-Digest: sha256:\(Hex.encode(blockSHA256))\r\nContent-Length: \(length)\r\n\r\n"
        try compressor.resetStream()
        let start = written
        try deflate(compressor, Array(h.utf8) + head, last: false)
        if let bodyPath {
            let infd = open(bodyPath, O_RDONLY | O_CLOEXEC)
            guard infd >= 0 else { throw POSIXFile.ioError("open", bodyPath) }
            defer { close(infd) }
            var buf = [UInt8](repeating: 0, count: 1 << 20)
            var remaining = bodySize
            while remaining > 0 {
                let want = Int(min(Int64(buf.count), remaining))
                let n = buf.withUnsafeMutableBytes { POSIXFile.readSome(infd, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }
                guard n > 0 else { throw POSIXFile.ioError("read", bodyPath) }
                try deflate(compressor, Array(buf[0..<n]), last: false)
                remaining -= Int64(n)
            }
        }
        try deflate(compressor, [0x0D, 0x0A, 0x0D, 0x0A], last: true)
        records.append(RecordInfo(id: id, type: type, uri: uri, blockSHA256: Hex.encode(blockSHA256), date: date,
                                  offset: start, length: written - start))
        return id
    }

    /// The request (as sent) and the response (as received) of one exchange, linked by
    /// WARC-Concurrent-To; returns the response record's ID, nil when nothing was received.
    @discardableResult
    func writeExchange(_ ex: HTTPExchange) throws -> String? {
        let responseID = WARCWriter.newRecordID()
        let hasResponse = !ex.responseHead.isEmpty
        if !ex.requestHead.isEmpty {
            var f: [(String, String)] = [("Content-Type", "application/http;msgtype=request")]
            if hasResponse { f.append(("WARC-Concurrent-To", responseID)) }
            if !ex.primaryIP.isEmpty { f.append(("WARC-IP-Address", ex.primaryIP)) }
            try write(type: "request", date: ex.started, uri: ex.url, fields: f, head: ex.requestHead,
                      blockSHA256: Hashing.sha256(ex.requestHead))
        }
        guard hasResponse else { return nil }
        var f: [(String, String)] = [("Content-Type", "application/http;msgtype=response")]
        if !ex.primaryIP.isEmpty { f.append(("WARC-IP-Address", ex.primaryIP)) }
        f.append(("WARC-Payload-Digest", "sha256:\(Hex.encode(ex.bodySHA256))"))
        if let t = ex.truncated { f.append(("WARC-Truncated", t)) }
        try write(type: "response", id: responseID, date: ex.started, uri: ex.url, fields: f, head: ex.responseHead,
                  bodyPath: ex.bodyPath, bodySize: ex.bodySize, blockSHA256: ex.blockSHA256)
        records[records.count - 1].status = ex.status
        records[records.count - 1].mime = ex.header("content-type")
        records[records.count - 1].payloadSHA256 = Hex.encode(ex.bodySHA256)
        return responseID
    }

    private func deflate(_ c: NIOCompressor, _ bytes: [UInt8], last: Bool) throws {
        var input = ByteBuffer(bytes: bytes)
        var output = ByteBufferAllocator().buffer(capacity: c.maxSize(from: input) + (last ? 1 << 18 : 0))
        try c.streamDeflate(from: &input, to: &output, flush: last ? .finish : .no)
        try output.withUnsafeReadableBytes { raw in try writeAll(raw) }
    }

    private func writeAll(_ raw: UnsafeRawBufferPointer) throws {
        guard POSIXFile.writeAll(fd, raw) else {
            throw POSIXFile.ioError(zh: "写入 WARC 文件失败", en: "cannot write the WARC file", path)
        }
        written += Int64(raw.count)
    }

    func sync() throws {
        guard fsync(fd) == 0 else { throw POSIXFile.ioError("fsync", path) }
    }
}

/// `application/warc-fields` text.
func warcFields(_ pairs: [(String, String)]) -> [UInt8] {
    Array(pairs.map { "\($0.0): \($0.1)\r\n" }.joined().utf8)
}
