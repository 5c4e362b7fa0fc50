import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The body of one evidence fetch as received (transfer and content encodings intact): streamed
/// to a temporary file created at its first byte, hashed on the way (SHA-256 and SM3 of the body;
/// the WARC-Block-Digest over the response head and the body), and cut at `maxSize`, which is
/// recorded as truncation, not as a failure.
final class CaptureBody: HTTPBodySink {
    let tmpDir: String
    let id: Int
    let maxSize: Int64
    private(set) var path: String?
    private(set) var size: Int64 = 0
    /// The body reached `maxSize` and the transfer was stopped there.
    private(set) var cutAtLimit = false
    private(set) var failure: EvidenceError?
    private var fd: Int32 = -1
    private let sha = StreamingDigest(.sha256)
    private let sm3 = StreamingDigest(.sm3)
    private let block = StreamingDigest(.sha256)
    private var blockStarted = false

    init(tmpDir: String, id: Int, maxSize: Int64) {
        self.tmpDir = tmpDir
        self.id = id
        self.maxSize = maxSize
    }

    deinit { if fd >= 0 { close(fd) } }

    func receive(_ data: UnsafeRawBufferPointer, head: [UInt8]) -> Bool {
        if fd < 0 {
            let p = "\(tmpDir)/\(getpid())-fetch-\(id)-\(UInt32.random(in: 0...UInt32.max)).body"
            fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0 {
                failure = POSIXFile.ioError(zh: "无法写入临时文件", en: "cannot write a temporary file", p)
                return false
            }
            path = p
        }
        var chunk = data
        if size + Int64(chunk.count) > maxSize {
            chunk = UnsafeRawBufferPointer(rebasing: chunk[0..<Int(maxSize - size)])
            cutAtLimit = true
        }
        guard POSIXFile.writeAll(fd, chunk) else {
            failure = POSIXFile.ioError(zh: "写入临时文件失败", en: "cannot write a temporary file", path ?? "", errno)
            return false
        }
        if !blockStarted {
            block.update(head)
            blockStarted = true
        }
        sha.update(chunk)
        sm3.update(chunk)
        block.update(chunk)
        size += Int64(chunk.count)
        return !cutAtLimit   // a stop here is our own, at --max-size
    }

    /// Close the file (flushed) and finish the digests; `head` is the final response head.
    func finish(head: [UInt8]) -> (sha256: [UInt8], sm3: [UInt8], block: [UInt8]) {
        if fd >= 0 {
            fsync(fd)
            close(fd)
            fd = -1
        }
        if !blockStarted { block.update(head) }
        return (sha.finish(), sm3.finish(), block.finish())
    }
}
