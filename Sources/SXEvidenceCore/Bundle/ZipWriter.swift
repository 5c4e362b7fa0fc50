import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a ZIP file of stored (uncompressed) entries, streaming file contents from disk; ZIP64
/// records are used where sizes or offsets need them (sxevidence-bundle(5), CONTAINER).
public final class ZipWriter {
    struct Entry { var name: [UInt8]; var offset: UInt64; var size: UInt64; var crc: UInt32 }
    let path: String
    private let fd: Int32
    private var offset: UInt64 = 0
    private var entries: [Entry] = []
    private var names = Set<String>()
    // 2026-01-01 00:00 in DOS form; the real times are in bundle.json (ZIP times carry no zone).
    static let dosTime: UInt16 = 0
    static let dosDate: UInt16 = UInt16((2026 - 1980) << 9 | 1 << 5 | 1)

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXFile.ioError("open", path) }
    }

    deinit { if fd >= 0 { close(fd) } }

    private func put(_ b: [UInt8]) throws {
        try b.withUnsafeBytes { try put($0) }
    }

    private func put(_ raw: UnsafeRawBufferPointer) throws {
        guard POSIXFile.writeAll(fd, raw) else { throw POSIXFile.ioError("write", path) }
        offset += UInt64(raw.count)
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * UInt64($0))) & 0xFF) } }

    private func begin(_ name: String, size: UInt64) throws -> Entry {
        guard names.insert(name).inserted else {
            throw EvidenceError(.internalError, zh: "压缩包内文件名重复：\(name)", en: "duplicate name in the ZIP: \(name)")
        }
        // A name the reader would refuse would make a bundle no verifier accepts: refuse it here.
        if let why = ZipReader.nameProblem(name) {
            throw EvidenceError(.internalError, zh: "压缩包内文件名不合规则：\(ZipReader.display(name))（\(why)）",
                                en: "entry name breaks the bundle name rules: \(ZipReader.display(name)) (\(why))")
        }
        let n = Array(name.utf8)
        let big = size >= 0xFFFF_FFFF
        var h = Self.le32(0x0403_4B50) + Self.le16(big ? 45 : 20) + Self.le16(0x0800) + Self.le16(0)
        h += Self.le16(Self.dosTime) + Self.le16(Self.dosDate) + Self.le32(0)   // CRC patched after the data
        h += big ? Self.le32(0xFFFF_FFFF) + Self.le32(0xFFFF_FFFF) : Self.le32(UInt32(size)) + Self.le32(UInt32(size))
        h += Self.le16(UInt16(n.count)) + Self.le16(big ? 20 : 0) + n
        if big { h += Self.le16(1) + Self.le16(16) + Self.le64(size) + Self.le64(size) }
        let e = Entry(name: n, offset: offset, size: size, crc: 0)
        try put(h)
        return e
    }

    private func complete(_ e: Entry, crc: UInt32) throws {
        var b = Self.le32(crc)
        let ok = b.withUnsafeMutableBytes { POSIXFile.writeAll(fd, UnsafeRawBufferPointer($0), at: Int64(e.offset + 14)) }
        guard ok else { throw POSIXFile.ioError("pwrite", path) }
        var done = e
        done.crc = crc
        entries.append(done)
        b.removeAll()
    }

    public func add(name: String, bytes: [UInt8]) throws {
        let e = try begin(name, size: UInt64(bytes.count))
        var crc = CRC32()
        crc.update(bytes)
        try put(bytes)
        try complete(e, crc: crc.value)
    }

    public func add(name: String, file: String) throws {
        let inFD = open(file, O_RDONLY | O_CLOEXEC)
        guard inFD >= 0 else { throw POSIXFile.ioError("open", file) }
        defer { close(inFD) }
        var st = stat()
        fstat(inFD, &st)
        let size = UInt64(st.st_size)
        let e = try begin(name, size: size)
        var crc = CRC32()
        var total: UInt64 = 0
        try POSIXFile.readChunks(inFD, name: file) { chunk in
            crc.update(chunk)
            try put(chunk)
            total += UInt64(chunk.count)
        }
        guard total == size else { throw EvidenceError(.ioError, zh: "文件在写入时改变了：\(file)", en: "file changed while being written: \(file)") }
        try complete(e, crc: crc.value)
    }

    /// Central directory and end records, then fsync.
    public func finish() throws {
        let cdStart = offset
        for e in entries {
            let needSize = e.size >= 0xFFFF_FFFF, needOff = e.offset >= 0xFFFF_FFFF
            var extra: [UInt8] = []
            if needSize { extra += Self.le64(e.size) + Self.le64(e.size) }
            if needOff { extra += Self.le64(e.offset) }
            if !extra.isEmpty { extra = Self.le16(1) + Self.le16(UInt16(extra.count)) + extra }
            var c = Self.le32(0x0201_4B50) + Self.le16(0x031E) + Self.le16(needSize || needOff ? 45 : 20) + Self.le16(0x0800) + Self.le16(0)
            c += Self.le16(Self.dosTime) + Self.le16(Self.dosDate) + Self.le32(e.crc)
            c += needSize ? Self.le32(0xFFFF_FFFF) + Self.le32(0xFFFF_FFFF) : Self.le32(UInt32(e.size)) + Self.le32(UInt32(e.size))
            c += Self.le16(UInt16(e.name.count)) + Self.le16(UInt16(extra.count)) + Self.le16(0) + Self.le16(0) + Self.le16(0)
            c += Self.le32(0o100644 << 16) + (needOff ? Self.le32(0xFFFF_FFFF) : Self.le32(UInt32(e.offset))) + e.name + extra
            try put(c)
        }
        let cdSize = offset - cdStart
        let zip64 = entries.count >= 0xFFFF || cdStart >= 0xFFFF_FFFF || cdSize >= 0xFFFF_FFFF || entries.contains { $0.size >= 0xFFFF_FFFF || $0.offset >= 0xFFFF_FFFF }
        if zip64 {
            let eocd64 = offset
            var r = Self.le32(0x0606_4B50) + Self.le64(44) + Self.le16(45) + Self.le16(45) + Self.le32(0) + Self.le32(0)
            r += Self.le64(UInt64(entries.count)) + Self.le64(UInt64(entries.count)) + Self.le64(cdSize) + Self.le64(cdStart)
            r += Self.le32(0x0706_4B50) + Self.le32(0) + Self.le64(eocd64) + Self.le32(1)
            try put(r)
        }
        let count16 = UInt16(min(entries.count, 0xFFFF))
        var end = Self.le32(0x0605_4B50) + Self.le16(0) + Self.le16(0) + Self.le16(count16) + Self.le16(count16)
        end += Self.le32(UInt32(min(cdSize, 0xFFFF_FFFF))) + Self.le32(UInt32(min(cdStart, 0xFFFF_FFFF))) + Self.le16(0)
        try put(end)
        guard fsync(fd) == 0 else { throw POSIXFile.ioError("fsync", path) }
    }
}
