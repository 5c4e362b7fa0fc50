import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Thin POSIX helpers: the object store and the ledger need exact control over fsync, rename and modes.
public enum POSIXFile {
    public static func errnoText(_ e: Int32 = errno) -> String { String(cString: strerror(e)) }

    static func ioError(_ what: String, _ path: String, _ e: Int32 = errno) -> EvidenceError {
        ioError(zh: what, en: what, path, e)
    }

    static func ioError(zh: String, en: String, _ path: String, _ e: Int32 = errno) -> EvidenceError {
        let text = errnoText(e)
        if e == ENOENT {
            return EvidenceError(.notFound, zh: "\(zh)：\(path)：文件不存在", en: "\(en): \(path): no such file")
        }
        return EvidenceError(.ioError, zh: "\(zh)：\(path)：\(text)", en: "\(en): \(path): \(text)")
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func mkdirs(_ path: String, mode: mode_t = 0o755) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            if mkdir(built, mode) != 0 && errno != EEXIST { throw ioError("mkdir", built) }
        }
    }

    /// Write a small file atomically and durably: temp file, fsync, rename, fsync of the directory.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let tmp = path + ".tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ioError("open", tmp) }
        var ok = bytes.withUnsafeBytes { writeAll(fd, $0) }
        var err: Int32 = ok ? 0 : errno
        if ok && fsync(fd) != 0 { ok = false; err = errno }
        fchmod(fd, mode)
        close(fd)
        guard ok else { unlink(tmp); throw ioError("write", path, err) }
        guard rename(tmp, path) == 0 else { let e = errno; unlink(tmp); throw ioError("rename", path, e) }
        try fsyncDirectory(parent(path))
    }

    /// The one write loop: all of `raw` to `fd`, retrying short writes and EINTR; false on any other
    /// error (errno set).
    public static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> Bool {
        var off = 0
        while off < raw.count {
            let w = write(fd, raw.baseAddress! + off, raw.count - off)
            if w < 0 { if errno == EINTR { continue }; return false }
            off += w
        }
        return true
    }

    /// `writeAll`, throwing an I/O error that names `path` (what `fd` was opened as).
    public static func writeAll(fd: Int32, _ raw: UnsafeRawBufferPointer, path: String) throws {
        guard writeAll(fd, raw) else { throw ioError(zh: "写入失败", en: "cannot write", path) }
    }

    public static func writeAll(fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd: fd, $0, path: path) }
    }

    /// The one read call: at most `buffer.count` bytes from `fd`, retrying EINTR. Returns the count
    /// read, 0 at end of file, -1 on any other error (errno set).
    public static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// `readSome` at a file offset (pread), for readers that must not move the file position.
    public static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let n = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Exactly `count` bytes of `fd` at `offset`; a short file is an error (`truncated`).
    public static func readExactly(_ fd: Int32, at offset: Int64, count: Int, name: String, truncated: () -> EvidenceError) throws -> [UInt8] {
        var b = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = b.withUnsafeMutableBytes { readSome(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[got...]), at: offset + Int64(got)) }
            if n < 0 { throw ioError("read", name) }
            if n == 0 { throw truncated() }
            got += n
        }
        return b
    }

    /// `writeAll` at a file offset (pwrite): all of `raw`, retrying short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, at offset: Int64) -> Bool {
        var off = 0
        while off < raw.count {
            let w = pwrite(fd, raw.baseAddress! + off, raw.count - off, off_t(offset) + off_t(off))
            if w < 0 { if errno == EINTR { continue }; return false }
            off += w
        }
        return true
    }

    /// Call `body` with each chunk read from `fd` until end of file.
    public static func readChunks(_ fd: Int32, name: String, chunkSize: Int = 1 << 20,
                                  _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buf = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let n = buf.withUnsafeMutableBytes { readSome(fd, into: $0) }
            if n < 0 { throw ioError("read", name) }
            if n == 0 { return }
            try buf.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// Up to `count` bytes from `fd` (fewer only at end of file), reading until they are there.
    public static func readUpTo(_ fd: Int32, _ count: Int, name: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { readSome(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[got...])) }
            if n < 0 { throw ioError("read", name) }
            if n == 0 { break }
            got += n
        }
        out.removeLast(count - got)
        return out
    }

    /// The first `count` bytes of the file at `path` (all of it when shorter).
    public static func readPrefix(_ path: String, _ count: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("open", path) }
        defer { close(fd) }
        return try readUpTo(fd, count, name: path)
    }

    public static func fsyncDirectory(_ dir: String) throws {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("open", dir) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw ioError("fsync", dir) }
    }

    public static func parent(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "." }
        return i == path.startIndex ? "/" : String(path[..<i])
    }

    public static func readAll(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("open", path) }
        defer { close(fd) }
        var out = [UInt8]()
        try readChunks(fd, name: path, chunkSize: 65536) { out.append(contentsOf: $0) }
        return out
    }

    public static func readText(_ path: String) throws -> String { String(decoding: try readAll(path), as: UTF8.self) }
}
