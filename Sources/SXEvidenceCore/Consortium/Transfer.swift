import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Offline sync by file (sxevidence-consortium(5), TRANSFER FILE):
///
///     sxevidence-transfer/1\n
///     node <id>\n
///     object <sha256> <size>\n<bytes>\n      (zero or more, before the batch that needs them)
///     batch <length>\n<EntryBatch bytes>\n
///     ...
///     end\n
public enum TransferFile {
    public static let header = "sxevidence-transfer/1"

    /// Write this node's ledger from `since` as batches, each preceded by its objects.
    public static func export(home: NodeHome, to path: String, since: Int64 = 0, objects: Bool = true,
                              batchEntries: Int64 = 5000) throws -> (entries: Int64, objects: Int, batches: Int) {
        let tmp = path + ".part"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXFile.ioError("open", tmp) }
        var closed = false
        defer { if !closed { close(fd); unlink(tmp) } }
        func put(_ b: [UInt8]) throws {
            guard b.withUnsafeBytes({ POSIXFile.writeAll(fd, $0) }) else { throw POSIXFile.ioError("write", tmp) }
        }
        try put(Array("\(header)\nnode \(home.config.nodeID)\n".utf8))
        var at = since
        var entries: Int64 = 0, nObjects = 0, batches = 0
        var sent = Set<String>()
        while let b = try home.ledger.batch(old: at, max: batchEntries) {
            if objects {
                for a in try home.ledger.artifacts(from: b.start, to: b.end) where sent.insert(a.sha256).inserted {
                    let p = home.store.path(forSHA256: a.sha256)
                    guard POSIXFile.exists(p) else { continue }
                    try put(Array("object \(a.sha256) \(a.size)\n".utf8))
                    let inFD = open(p, O_RDONLY | O_CLOEXEC)
                    guard inFD >= 0 else { throw POSIXFile.ioError("open", p) }
                    defer { close(inFD) }
                    var copied: Int64 = 0
                    try POSIXFile.readChunks(inFD, name: p) { chunk in
                        guard POSIXFile.writeAll(fd, chunk) else { throw POSIXFile.ioError("write", tmp) }
                        copied += Int64(chunk.count)
                    }
                    guard copied == a.size else {
                        throw EvidenceError(.verification, zh: "对象 \(a.sha256) 大小与记录不符", en: "object \(a.sha256) does not have its recorded size")
                    }
                    try put([0x0A])
                    nObjects += 1
                }
            }
            let bytes = b.serialized
            try put(Array("batch \(bytes.count)\n".utf8) + bytes + [0x0A])
            entries += b.end - b.start
            batches += 1
            at = b.end
        }
        try put(Array("end\n".utf8))
        guard fsync(fd) == 0 else { throw POSIXFile.ioError("fsync", tmp) }
        close(fd)
        closed = true
        guard rename(tmp, path) == 0 else { unlink(tmp); throw POSIXFile.ioError("rename", path) }
        try POSIXFile.fsyncDirectory(POSIXFile.parent(path))
        return (entries, nObjects, batches)
    }

    public struct ImportResult: Sendable {
        public var node = ""
        public var added: Int64 = 0
        public var objects = 0
        public var batches = 0
    }

    /// Read a transfer file and apply each batch through `ConsortiumNode.receive` (the same checks as a
    /// push). A file cut short applies the whole batches before the cut and then fails.
    public static func importFile(_ path: String, into node: ConsortiumNode) throws -> ImportResult {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw errno == ENOENT ? EvidenceError(.notFound, zh: "找不到文件：\(path)", en: "no such file: \(path)") : POSIXFile.ioError("open", path)
        }
        defer { close(fd) }
        let r = Reader(fd: fd)
        func bad(_ what: String) -> EvidenceError {
            EvidenceError(.dataError, zh: "传输文件 \(path) 格式错误或不完整：\(what)", en: "transfer file \(path) is malformed or incomplete: \(what)")
        }
        guard try r.line() == header else { throw bad("header") }
        guard let nodeLine = try r.line(), nodeLine.hasPrefix("node ") else { throw bad("node line") }
        var res = ImportResult(node: String(nodeLine.dropFirst(5)))
        while true {
            guard let l = try r.line() else { throw bad("cut short after \(res.batches) batches (no end line)") }
            if l == "end" { break }
            let parts = l.split(separator: " ")
            if parts.count == 3, parts[0] == "object", let size = Int64(parts[2]), size >= 0 {
                let digest = String(parts[1])
                guard Ledger.isDigest(digest) else { throw bad("object digest") }
                let tmp = node.temporaryObjectPath()
                guard try r.copy(size, toFile: tmp) else { unlink(tmp); throw bad("object \(digest) cut short") }
                guard try r.line() == "" else { unlink(tmp); throw bad("object terminator") }
                try node.receiveObject(tmpPath: tmp, expectedSHA256: digest, holder: res.node)
                res.objects += 1
            } else if parts.count == 2, parts[0] == "batch", let len = Int(parts[1]), len > 0, len <= 1 << 30 {
                guard let bytes = try r.bytes(len) else { throw bad("batch cut short") }
                guard try r.line() == "" else { throw bad("batch terminator") }
                let b = try EntryBatch.parse(bytes)
                guard b.node == res.node else { throw bad("batch of another node") }
                do {
                    let got = try node.receive(b)
                    res.added += Int64(got.added)
                } catch let e as EvidenceError {
                    // A file exported with --since beyond what the receiver holds: import the earlier part first.
                    guard let s = e.cause(as: StaleOldSize.self) else { throw e }
                    throw bad("batch starts at entry \(b.start) but only \(s.held) are held; import the earlier part first")
                }
                res.batches += 1
            } else {
                throw bad("unknown record")
            }
        }
        return res
    }

    /// Buffered reading from a file descriptor.
    final class Reader {
        let fd: Int32
        var buf = [UInt8]()
        var pos = 0
        var eof = false
        init(fd: Int32) { self.fd = fd }

        func fill() throws -> Bool {
            if pos > 0 { buf.removeFirst(pos); pos = 0 }
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            let n = chunk.withUnsafeMutableBytes { POSIXFile.readSome(fd, into: $0) }
            if n < 0 { throw POSIXFile.ioError("read", "transfer file") }
            if n == 0 { eof = true; return false }
            buf += chunk[0..<n]
            return true
        }

        func line() throws -> String? {
            while true {
                if let nl = buf[pos...].firstIndex(of: 0x0A) {
                    let s = String(decoding: buf[pos..<nl], as: UTF8.self)
                    pos = nl + 1
                    return s
                }
                if buf.count - pos > 4096 { return nil }
                if try !fill() { return nil }
            }
        }

        func bytes(_ n: Int) throws -> [UInt8]? {
            while buf.count - pos < n { if try !fill() { return nil } }
            let out = Array(buf[pos..<(pos + n)])
            pos += n
            return out
        }

        func copy(_ n: Int64, toFile path: String) throws -> Bool {
            let out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard out >= 0 else { throw POSIXFile.ioError("open", path) }
            defer { close(out) }
            var left = n
            while left > 0 {
                if pos == buf.count, try !fill() { return false }
                let take = Int(min(left, Int64(buf.count - pos)))
                guard buf[pos..<(pos + take)].withUnsafeBytes({ POSIXFile.writeAll(out, $0) }) else { throw POSIXFile.ioError("write", path) }
                pos += take
                left -= Int64(take)
            }
            return true
        }
    }
}
