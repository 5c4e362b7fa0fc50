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
        var ok = true
        var err: Int32 = 0
        bytes.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 { if errno == EINTR { continue }; ok = false; err = errno; return }
                off += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false; err = errno }
        fchmod(fd, mode)
        close(fd)
        guard ok else { unlink(tmp); throw ioError("write", path, err) }
        guard rename(tmp, path) == 0 else { let e = errno; unlink(tmp); throw ioError("rename", path, e) }
        try fsyncDirectory(parent(path))
    }

    /// Write all of `raw` to `fd`, retrying short writes and EINTR; false on any other error (errno set).
    public static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> Bool {
        var off = 0
        while off < raw.count {
            let w = write(fd, raw.baseAddress! + off, raw.count - off)
            if w < 0 { if errno == EINTR { continue }; return false }
            off += w
        }
        return true
    }

    /// Call `body` with each chunk read from `fd` until end of file.
    public static func readChunks(_ fd: Int32, name: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw ioError("read", name) }
            if n == 0 { return }
            try buf.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
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
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buf, buf.count)
            if n < 0 { if errno == EINTR { continue }; throw ioError("read", path) }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    public static func readText(_ path: String) throws -> String { String(decoding: try readAll(path), as: UTF8.self) }
}
