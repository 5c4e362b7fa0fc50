import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a ZIP of stored entries in place, refusing anything unsafe before a byte of content is
/// used (sxevidence-bundle(5), CONTAINER): compressed or encrypted entries, names that are absolute,
/// contain `..`, backslashes or control characters, not NFC, case twins, file/directory twins,
/// symlinks, duplicates, and any layout but the one the writer produces. Nothing is extracted; entries are read by offset.
public final class ZipReader {
    public struct Entry: Sendable {
        public var name: String
        public var dataOffset: UInt64
        public var size: UInt64
        public var crc: UInt32
    }
    public let path: String
    public let fd: Int32
    public let fileSize: UInt64
    public private(set) var entries: [String: Entry] = [:]
    public private(set) var order: [String] = []
    public static let maxEntries = 100_000

    static func bad(_ path: String, _ zh: String, _ en: String) -> EvidenceError {
        EvidenceError(.dataError, zh: "\(path) 不是有效或安全的证据包：\(zh)", en: "\(path) is not a valid or safe bundle: \(en)")
    }

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw errno == ENOENT ? EvidenceError(.notFound, zh: "找不到文件：\(path)", en: "no such file: \(path)") : POSIXFile.ioError("open", path)
        }
        var st = stat()
        fstat(fd, &st)
        guard (st.st_mode & S_IFMT) == S_IFREG else { close(fd); throw Self.bad(path, "不是普通文件", "not a regular file") }
        fileSize = UInt64(st.st_size)
        // Fully initialized here: if parse() throws, deinit closes fd (closing it here too would close
        // whatever file another thread opened under the same number in between).
        try parse()
    }

    deinit { close(fd) }

    public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        // Offsets come from the archive itself: checked without overflow before any read.
        let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
        guard count >= 0, !overflow, end <= fileSize, offset <= UInt64(Int64.max) else { throw Self.bad(path, "越界读取", "read beyond the end") }
        return try POSIXFile.readExactly(fd, at: Int64(offset), count: count, name: path) { Self.bad(path, "文件被截断", "truncated") }
    }

    static func u16(_ b: [UInt8], _ i: Int) -> UInt64 { UInt64(b[i]) | UInt64(b[i + 1]) << 8 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt64 { u16(b, i) | u16(b, i + 2) << 16 }
    static func u64(_ b: [UInt8], _ i: Int) -> UInt64 { u32(b, i) | u32(b, i + 4) << 32 }

    public static func safeName(_ n: String) -> Bool {
        guard !n.isEmpty, n.utf8.count < 1024, !n.hasPrefix("/"), !n.contains("\\"), !n.hasSuffix("/") else { return false }
        guard !n.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return false }
        let parts = n.split(separator: "/", omittingEmptySubsequences: false)
        return !parts.contains { $0.isEmpty || $0 == "." || $0 == ".." } && !n.contains(":")
    }

    /// A name as shown in a message: backslash doubled, controls and bidirectional controls as \u{hex}
    /// (sxevidence-bundle(5), VERIFICATION, Display).
    public static func display(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            let v = u.value
            if v == 0x5C { out += "\\\\" }
            else if v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
                        || v == 0x200E || v == 0x200F || v == 0x061C { out += "\\u{" + String(v, radix: 16) + "}" }
            else { out.unicodeScalars.append(u) }
        }
        return out
    }

    /// Refusal reason for a name under the bundle's name rules (sxevidence-bundle(5), CONTAINER), or nil.
    public static func nameProblem(_ n: String) -> String? {
        guard safeName(n) else { return "absolute, .., backslash, control character, ':' or empty component" }
        guard Array(n.utf8) == Array(n.precomposedStringWithCanonicalMapping.utf8) else { return "not in Unicode NFC" }
        for part in n.split(separator: "/", omittingEmptySubsequences: false) where part.hasSuffix(".") || part.hasSuffix(" ") {
            return "a component ends in '.' or ' '"
        }
        return nil
    }

    static func fold(_ n: String) -> [UInt8] { Array(n.precomposedStringWithCanonicalMapping.lowercased().utf8) }

    /// Exactly one layout is accepted: stored entries contiguous from offset 0, then one central
    /// directory consumed exactly, then optionally a ZIP64 end record and its locator, then one end
    /// record with no comment that ends at the end of the file.
    private func parse() throws {
        guard fileSize >= 22 else { throw Self.bad(path, "太短，不是 ZIP", "too short to be a ZIP") }
        let eocdAbs = fileSize - 22
        let end = try read(at: eocdAbs, count: 22)
        guard Self.u32(end, 0) == 0x0605_4B50 else {
            throw Self.bad(path, "文件末尾不是无注释的 ZIP 目录结尾记录（非 ZIP、被截断、有注释或尾随字节）",
                           "the file does not end with an end of central directory record without comment (not a ZIP, truncated, commented or trailing bytes)")
        }
        guard Self.u16(end, 4) == 0, Self.u16(end, 6) == 0, Self.u16(end, 8) == Self.u16(end, 10) else {
            throw Self.bad(path, "目录结尾记录的磁盘号或条目数不一致", "end record: disk numbers not 0 or entry counts differ")
        }
        var count = Self.u16(end, 10)
        var cdSize = Self.u32(end, 12)
        var cdStart = Self.u32(end, 16)
        var cdEnd = eocdAbs
        if eocdAbs >= 76 {
            let loc = try read(at: eocdAbs - 20, count: 20)
            if Self.u32(loc, 0) == 0x0706_4B50 {
                guard Self.u32(loc, 4) == 0, Self.u32(loc, 16) == 1, Self.u64(loc, 8) == eocdAbs - 76 else {
                    throw Self.bad(path, "ZIP64 定位记录无效或未紧接 ZIP64 记录", "ZIP64 locator invalid or not immediately after its ZIP64 record")
                }
                let r = try read(at: eocdAbs - 76, count: 56)
                guard Self.u32(r, 0) == 0x0606_4B50, Self.u64(r, 4) == 44, Self.u32(r, 16) == 0, Self.u32(r, 20) == 0,
                      Self.u64(r, 24) == Self.u64(r, 32) else {
                    throw Self.bad(path, "ZIP64 记录无效", "bad ZIP64 end record")
                }
                let c64 = Self.u64(r, 32), s64 = Self.u64(r, 40), o64 = Self.u64(r, 48)
                guard count == 0xFFFF || count == c64, cdSize == 0xFFFF_FFFF || cdSize == s64, cdStart == 0xFFFF_FFFF || cdStart == o64 else {
                    throw Self.bad(path, "ZIP64 记录与目录结尾记录不一致", "ZIP64 end record disagrees with the end record")
                }
                count = c64; cdSize = s64; cdStart = o64
                cdEnd = eocdAbs - 76
            }
        }
        guard cdEnd != eocdAbs || (count != 0xFFFF && cdSize != 0xFFFF_FFFF && cdStart != 0xFFFF_FFFF) else {
            throw Self.bad(path, "缺少 ZIP64 记录", "missing ZIP64 end record and locator")
        }
        guard count <= UInt64(Self.maxEntries) else { throw Self.bad(path, "条目过多", "too many entries") }
        guard cdSize <= 64 << 20, cdStart <= cdEnd, cdStart + cdSize == cdEnd else {
            throw Self.bad(path, "目录未紧接结尾记录（目录与结尾记录之间有字节，或有第二个目录）",
                           "the central directory does not end exactly where the end records begin (bytes between them, or a second directory)")
        }
        let cd = try read(at: cdStart, count: Int(cdSize))
        var p = 0
        var expected: UInt64 = 0       // local entries follow each other from offset 0, in directory order
        var folded = Set<[UInt8]>()
        var names: [String] = []
        for _ in 0..<count {
            guard p + 46 <= cd.count, Self.u32(cd, p) == 0x0201_4B50 else { throw Self.bad(path, "目录项损坏", "corrupt central directory entry") }
            let made = Self.u16(cd, p + 4)
            let flags = Self.u16(cd, p + 8), method = Self.u16(cd, p + 10)
            let crc = UInt32(Self.u32(cd, p + 16))
            var csize = Self.u32(cd, p + 20), usize = Self.u32(cd, p + 24)
            let nlen = Int(Self.u16(cd, p + 28)), xlen = Int(Self.u16(cd, p + 30)), clen = Int(Self.u16(cd, p + 32))
            let disk = Self.u16(cd, p + 34), external = Self.u32(cd, p + 38)
            var local = Self.u32(cd, p + 42)
            guard p + 46 + nlen + xlen + clen <= cd.count else { throw Self.bad(path, "目录项越界", "central directory entry out of range") }
            let nameBytes = Array(cd[(p + 46)..<(p + 46 + nlen)])
            let shown = Self.display(String(decoding: nameBytes, as: UTF8.self))
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw Self.bad(path, "文件名不是有效的 UTF-8：\(shown)", "entry name is not valid UTF-8: \(shown)")
            }
            if let why = Self.nameProblem(name) {
                throw Self.bad(path, "不安全的文件名：\(shown)（\(why)）", "unsafe entry name: \(shown) (\(why))")
            }
            guard made >> 8 != 3 || [0, 0o100000].contains((external >> 16) & 0o170000) else {
                throw Self.bad(path, "\(shown) 不是普通文件（符号链接等）", "\(shown) is not a regular file (symlink or other type in the external attributes)")
            }
            guard disk == 0 else { throw Self.bad(path, "\(shown) 的磁盘号不是 0", "\(shown): disk number not 0") }
            // ZIP64 extra: the fields present are those whose 32-bit value is 0xFFFFFFFF, in this order.
            var x = p + 46 + nlen
            let xend = x + xlen
            while x + 4 <= xend {
                let id = Self.u16(cd, x), len = Int(Self.u16(cd, x + 2))
                guard x + 4 + len <= xend else { throw Self.bad(path, "扩展字段越界", "extra field out of range") }
                if id == 1 {
                    var q = x + 4
                    if usize == 0xFFFF_FFFF { guard q + 8 <= x + 4 + len else { throw Self.bad(path, "ZIP64 字段不全", "short ZIP64 field") }; usize = Self.u64(cd, q); q += 8 }
                    if csize == 0xFFFF_FFFF { guard q + 8 <= x + 4 + len else { throw Self.bad(path, "ZIP64 字段不全", "short ZIP64 field") }; csize = Self.u64(cd, q); q += 8 }
                    if local == 0xFFFF_FFFF { guard q + 8 <= x + 4 + len else { throw Self.bad(path, "ZIP64 字段不全", "short ZIP64 field") }; local = Self.u64(cd, q); q += 8 }
                }
                x += 4 + len
            }
            guard flags & 0x41 == 0 else { throw Self.bad(path, "\(shown) 已加密", "\(shown) is encrypted") }
            guard flags & 0x08 == 0 else { throw Self.bad(path, "\(shown) 使用了数据描述符（标志位 3）", "\(shown) uses a data descriptor (flag bit 3)") }
            guard method == 0 else {
                throw Self.bad(path, "\(shown) 使用了压缩方法 \(method)；证据包的条目一律不压缩", "\(shown) uses compression method \(method); bundle entries are stored uncompressed")
            }
            guard csize == usize else { throw Self.bad(path, "\(shown) 的大小前后不一", "\(shown) has inconsistent sizes") }
            guard entries[name] == nil else { throw Self.bad(path, "文件名重复：\(shown)", "duplicate entry: \(shown)") }
            guard folded.insert(Self.fold(name)).inserted else {
                throw Self.bad(path, "文件名仅大小写不同：\(shown)", "entry names differ only in case: \(shown)")
            }
            guard local == expected else {
                throw Self.bad(path, "\(shown) 不紧接前一条目（有间隙、重叠或次序与目录不同）",
                               "\(shown) does not start where the previous entry ends (gap, overlap or order differing from the directory)")
            }
            guard local + 30 + UInt64(nlen) <= cdStart else { throw Self.bad(path, "\(shown) 的本地头越界", "\(shown): local header out of range") }
            let lh = try read(at: local, count: 30)
            guard Self.u32(lh, 0) == 0x0403_4B50, Int(Self.u16(lh, 26)) == nlen else { throw Self.bad(path, "\(shown) 的本地头无效", "\(shown): bad local header") }
            // The local header must say what the central directory says (no second reading of the bytes).
            let lflags = Self.u16(lh, 6), lmethod = Self.u16(lh, 8), lcrc = UInt32(Self.u32(lh, 14))
            let lc = Self.u32(lh, 18), lu = Self.u32(lh, 22)
            guard lmethod == 0, lflags & 0x49 == 0, lcrc == crc,
                  (lu == 0xFFFF_FFFF && lc == 0xFFFF_FFFF) || (lc == csize && lu == usize) else {
                throw Self.bad(path, "\(shown) 的本地头与目录不一致", "\(shown): local header disagrees with the central directory")
            }
            let dataOffset = local + 30 + Self.u16(lh, 26) + Self.u16(lh, 28)
            guard try read(at: local + 30, count: nlen) == nameBytes else { throw Self.bad(path, "\(shown) 的本地头文件名不符", "\(shown): local header name differs") }
            guard dataOffset + usize <= cdStart else { throw Self.bad(path, "\(shown) 的数据越界（文件被截断？）", "\(shown): data out of range (truncated?)") }
            entries[name] = Entry(name: name, dataOffset: dataOffset, size: usize, crc: crc)
            order.append(name)
            names.append(name)
            expected = dataOffset + usize
            p += 46 + nlen + xlen + clen
        }
        guard p == cd.count else {
            throw Self.bad(path, "目录的记录数与结尾记录不符（目录中有多余字节）", "the central directory holds bytes beyond its records (count differs from the end record)")
        }
        guard expected == cdStart else {
            throw Self.bad(path, "目录前有不属于任何文件的字节", "bytes before the central directory belong to no entry")
        }
        // No name is both a file and a directory prefix of another ("a" and "a/b"), in any case.
        for name in names {
            var prefix = ""
            let parts = name.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            for part in parts {
                prefix += prefix.isEmpty ? String(part) : "/" + part
                if folded.contains(Self.fold(prefix)) {
                    let shown = Self.display(name)
                    throw Self.bad(path, "\(Self.display(prefix)) 既是文件又是 \(shown) 的目录", "\(Self.display(prefix)) is both a file and a directory of \(shown)")
                }
            }
        }
    }

    public func bytes(_ name: String, limit: Int = 64 << 20) throws -> [UInt8] {
        guard let e = entries[name] else {
            throw EvidenceError(.verification, zh: "证据包缺少 \(name)", en: "the bundle lacks \(name)")
        }
        guard e.size <= UInt64(limit) else { throw Self.bad(path, "\(name) 过大", "\(name) is too large") }
        return try read(at: e.dataOffset, count: Int(e.size))
    }

    /// Size, SHA-256 and SM3 of an entry, read once (SM3 on a second thread for large entries);
    /// the entry's CRC-32 is checked on the same pass.
    public func digests(_ name: String) throws -> (size: Int64, sha256: String, sm3: String) {
        guard let e = entries[name] else {
            throw EvidenceError(.verification, zh: "证据包缺少 \(name)", en: "the bundle lacks \(name)")
        }
        var crc = CRC32()
        let r = try ObjectStore.hashRange(fd: fd, offset: Int64(e.dataOffset), length: Int64(e.size), name: path) { crc.update($0) }
        guard crc.value == e.crc else {
            throw EvidenceError(.dataError, zh: "\(name) 的 CRC-32 不符（\(String(crc.value, radix: 16)) ≠ \(String(e.crc, radix: 16))），压缩包已损坏",
                                en: "\(name): CRC-32 \(String(crc.value, radix: 16)) != \(String(e.crc, radix: 16)); the ZIP is damaged")
        }
        return (r.0, Hex.encode(r.1), Hex.encode(r.2))
    }

    /// Small entries read into memory are checked against their CRC-32 too.
    public func checkedBytes(_ name: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let b = try bytes(name, limit: limit)
        var crc = CRC32()
        crc.update(b)
        guard crc.value == entries[name]!.crc else {
            throw EvidenceError(.dataError, zh: "\(name) 的 CRC-32 不符，压缩包已损坏", en: "\(name): CRC-32 mismatch; the ZIP is damaged")
        }
        return b
    }
}
