import Foundation
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Content-addressed, read-only object store: `objects/sha256/<2 hex>/<64 hex>`.
/// Files are streamed once through SHA-256 and SM3 (on two threads for large files) while being
/// copied to a temporary file, then renamed into place. `sync()` makes everything written durable
/// with one `syncfs`, so a batch pays for one flush, not one per file.
public final class ObjectStore: Sendable {
    public let root: String
    let tmpDir: String
    static let chunk = 1 << 20
    static let ringSize = 4

    private let pid = getpid()
    private let instance = UInt64.random(in: 0..<UInt64.max)
    private let counter = Atomic<UInt64>(0)

    public init(root: String) {
        self.root = root
        self.tmpDir = root + "/tmp"
    }

    /// `<pid>-<random>-<n>.part`: the pid lets a later run remove what a killed process left.
    func nextTemporaryName() -> String {
        "\(tmpDir)/\(pid)-\(String(instance, radix: 36))-\(counter.add(1, ordering: .relaxed).newValue).part"
    }

    public func path(forSHA256 hex: String) -> String {
        "\(root)/sha256/\(hex.prefix(2))/\(hex)"
    }

    /// Open a stored object for reading without following links: the file and the two folders above
    /// it inside the store must be real (a link planted in the store is refused); a regular file only.
    /// Returns the descriptor (the caller closes it) and the size, or nil.
    public func openObject(sha256 hex: String) -> (Int32, Int64)? {
        let p = path(forSHA256: hex)
        for dir in [root + "/sha256", POSIXFile.parent(p)] {
            var st = stat()
            guard lstat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
        }
        let fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { close(fd); return nil }
        return (fd, Int64(st.st_size))
    }

    /// Remove temporary files left by processes that no longer run (a kill -9 mid-copy).
    public func removeStaleTemporaries() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: tmpDir) else { return }
        for name in names {
            guard let pidText = name.split(separator: "-").first, let pid = Int32(pidText) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: tmpDir + "/" + name) }
        }
    }

    /// Stream `source` into the store and return its artifact record (named `name`).
    public func ingest(path source: String, name: String) throws -> Artifact {
        // O_NONBLOCK so that a FIFO or device is refused below instead of blocking the open.
        let inFD = open(source, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard inFD >= 0 else {
            let e = errno
            if e == EISDIR {
                throw EvidenceError(.usage, zh: "\(source) 是目录，不是文件", en: "\(source) is a directory, not a file")
            }
            throw POSIXFile.ioError(zh: "无法读取", en: "cannot read", source, e)
        }
        defer { close(inFD) }
        var st = stat()
        guard fstat(inFD, &st) == 0 else { throw POSIXFile.ioError("stat", source) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw EvidenceError(.usage, zh: "\(source) 是目录，不是文件", en: "\(source) is a directory, not a file")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw EvidenceError(.usage, zh: "\(source) 不是普通文件", en: "\(source) is not a regular file")
        }
        // (O_NONBLOCK has no effect on regular files, so it can stay set.)
        let tmp = nextTemporaryName()
        let outFD = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
        guard outFD >= 0 else { throw POSIXFile.ioError(zh: "无法写入证据库", en: "cannot write to the object store", tmp) }
        var tmpLive = true
        defer {
            close(outFD)
            if tmpLive { unlink(tmp) }
        }
        let (size, sha, sm3) = try Self.copyHashing(from: inFD, to: outFD, sourceName: source, tmpName: tmp,
                                               expectedSize: Int64(st.st_size))
        let shaHex = Hex.encode(sha)
        let dest = path(forSHA256: shaHex)
        if Self.intact(dest, size: size) {
            // Already stored (same SHA-256 and size): keep the existing read-only copy.
            return Artifact(name: name, size: size, sha256: shaHex, sm3: Hex.encode(sm3))
        }
        // Absent, or damaged (say, emptied by a crash before its flush): the fresh copy replaces it.
        if rename(tmp, dest) != 0 {
            // The fan-out folder is made on first use only.
            let dir = POSIXFile.parent(dest)
            guard errno == ENOENT, mkdir(dir, 0o755) == 0 || errno == EEXIST, rename(tmp, dest) == 0 else {
                throw POSIXFile.ioError("rename", dest)
            }
        }
        tmpLive = false
        return Artifact(name: name, size: size, sha256: shaHex, sm3: Hex.encode(sm3))
    }

    /// Move a finished file (already on the store's file system) into the store, hashing it in place.
    public func adopt(path source: String, name: String) throws -> Artifact {
        let (size, sha, sm3) = try Self.hashFile(source)
        let shaHex = Hex.encode(sha)
        let dest = path(forSHA256: shaHex)
        chmod(source, 0o444)
        if Self.intact(dest, size: size) {
            unlink(source)
        } else if rename(source, dest) != 0 {
            let dir = POSIXFile.parent(dest)
            guard errno == ENOENT, mkdir(dir, 0o755) == 0 || errno == EEXIST, rename(source, dest) == 0 else {
                throw POSIXFile.ioError("rename", dest)
            }
        }
        return Artifact(name: name, size: size, sha256: shaHex, sm3: Hex.encode(sm3))
    }

    /// An existing object of the right size is taken as intact (its digest is its name; `verify`
    /// re-hashes it); a wrong size means a damaged copy that a fresh one must replace.
    static func intact(_ path: String, size: Int64) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && Int64(st.st_size) == size
    }

    /// Flush everything written to the store's file system (data, inodes, directory entries).
    public func sync() throws {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXFile.ioError("open", root) }
        defer { close(fd) }
        guard FileSync.syncfs(fd) else { throw POSIXFile.ioError("syncfs", root) }
    }

    /// Hash an existing object again, for `verify`.
    public func rehash(sha256 hex: String) throws -> (size: Int64, sha256: [UInt8], sm3: [UInt8]) {
        try Self.hashFile(path(forSHA256: hex))
    }

    /// Size, SHA-256 and SM3 of a file, through the same digest path as ingestion.
    public static func hashFile(_ p: String) throws -> (size: Int64, sha256: [UInt8], sm3: [UInt8]) {
        let fd = open(p, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXFile.ioError("open", p) }
        defer { close(fd) }
        return try copyHashing(from: fd, to: nil, sourceName: p, tmpName: nil, expectedSize: -1)
    }

    /// The single digest path: read once, SHA-256 and SM3 over the same bytes, optional copy.
    /// Large inputs hash SM3 on a second thread while this one hashes SHA-256 and writes.
    /// Size, SHA-256 and SM3 of `length` bytes at `offset` of an open file (an entry inside a ZIP).
    public static func hashRange(fd: Int32, offset: Int64, length: Int64, name: String,
                                 also: ((UnsafeRawBufferPointer) -> Void)? = nil) throws -> (Int64, [UInt8], [UInt8]) {
        let r = try copyHashing(from: fd, to: nil, sourceName: name, tmpName: nil, expectedSize: length, range: (offset, length), also: also)
        guard r.0 == length else { throw POSIXFile.ioError("read (short)", name) }
        return r
    }

    static func copyHashing(from inFD: Int32, to outFD: Int32?, sourceName: String, tmpName: String?,
                     expectedSize: Int64, range: (offset: Int64, length: Int64)? = nil,
                     also: ((UnsafeRawBufferPointer) -> Void)? = nil) throws -> (Int64, [UInt8], [UInt8]) {
        let sha = StreamingDigest(.sha256)
        let sm3 = StreamingDigest(.sm3)
        let parallel = expectedSize < 0 || expectedSize > Int64(Self.chunk)
        // Small files get a small buffer: a 1 MiB allocation per file costs an mmap/munmap pair.
        let bufferSize = parallel ? Self.chunk : max(4096, Int(expectedSize) + 1)
        let ring = BufferRing(count: parallel ? Self.ringSize : 1, size: bufferSize)
        defer { ring.deallocate() }
        let free = DispatchSemaphore(value: ring.count)
        let worker = parallel ? DispatchQueue(label: "sxevidence.sm3") : nil
        var total: Int64 = 0
        var slot = 0
        var synced: Int64 = 0
        var failure: EvidenceError?
        loop: while true {
            free.wait()
            let buf = ring.buffers[slot]
            let n: Int
            if let range {
                let want = min(Int64(buf.count), range.length - total)
                n = want <= 0 ? 0 : POSIXFile.readSome(inFD, into: UnsafeMutableRawBufferPointer(rebasing: buf[0..<Int(want)]), at: range.offset + total)
            } else {
                n = POSIXFile.readSome(inFD, into: UnsafeMutableRawBufferPointer(buf))
            }
            if n < 0 { failure = POSIXFile.ioError("read", sourceName); free.signal(); break }
            if n == 0 { free.signal(); break }
            let view = UnsafeRawBufferPointer(start: buf.baseAddress, count: n)
            if parallel {
                let box = UncheckedBox(view)
                worker!.async { sm3.update(box.value); free.signal() }
            } else {
                sm3.update(view)
            }
            sha.update(view)
            also?(view)
            if let outFD {
                guard POSIXFile.writeAll(outFD, view) else {
                    failure = POSIXFile.ioError(zh: "写入证据库失败", en: "cannot write to the object store", tmpName ?? "", errno)
                    break loop
                }
                // Start writeback early so the final flush of a large file does not wait for all of it.
                if total + Int64(n) - synced >= 16 << 20 {
                    FileSync.startWriteback(outFD, offset: synced, count: total + Int64(n) - synced)
                    synced = total + Int64(n)
                }
            }
            if !parallel { free.signal() }
            total += Int64(n)
            slot = (slot + 1) % ring.count
        }
        worker?.sync {}
        if let failure { throw failure }
        return (total, sha.finish(), sm3.finish())
    }
}
