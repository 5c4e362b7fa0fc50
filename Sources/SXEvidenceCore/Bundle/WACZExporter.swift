import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// WACZ 1.1.1 of web captures, for replay (ReplayWeb.page): the capture WARCs as stored, a CDXJ
/// index built from the record offsets the capture manifest lists, a page list, and
/// datapackage.json with SHA-256 of every file (sxevidence-bundle(5), WACZ).
public struct WACZExporter {
    public let home: NodeHome
    public init(home: NodeHome) { self.home = home }

    public struct Result: Sendable { public var captures: Int; public var pages: Int; public var records: Int }

    /// Sort-friendly URL key (SURT, as pywb and the `surt` package form it for ordinary URLs).
    public static func surt(_ url: String) -> String {
        var u = url
        if let hash = u.firstIndex(of: "#") { u = String(u[..<hash]) }
        var scheme = ""
        if let r = u.range(of: "://") { scheme = u[..<r.lowerBound].lowercased(); u = String(u[r.upperBound...]) }
        let slash = u.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? u.endIndex
        var hostPort = u[..<slash].lowercased()
        var rest = String(u[slash...])
        if let at = hostPort.lastIndex(of: "@") { hostPort = String(hostPort[hostPort.index(after: at)...]) }
        var host = hostPort, port = ""
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            host = String(hostPort[..<colon]); port = String(hostPort[hostPort.index(after: colon)...])
        }
        if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") { port = "" }
        if host.hasPrefix("www") {
            let digits = host.dropFirst(3).prefix { $0.isNumber }
            let after = host.dropFirst(3 + digits.count)
            if after.hasPrefix(".") { host = String(after.dropFirst()) }
        }
        if rest.isEmpty || rest.hasPrefix("?") { rest = "/" + rest }
        var path = rest, query = ""
        if let q = rest.firstIndex(of: "?") { path = String(rest[..<q]); query = String(rest[rest.index(after: q)...]) }
        // Minimal percent-encoding (decode everything, re-encode only what must be), no trailing slash.
        path = Self.minimalEscape(path)
        if path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        var k = host.split(separator: ".").reversed().joined(separator: ",") + (port.isEmpty ? "" : ":" + port)
        k += ")" + path.lowercased()
        let q = Self.minimalEscape(query)
        if !q.isEmpty { k += "?" + q.lowercased().split(separator: "&", omittingEmptySubsequences: false).sorted().joined(separator: "&") }
        return k
    }

    static func isHex(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66) }

    static func minimalEscape(_ s: String) -> String {
        var bytes = Array(s.utf8)
        // Decode %XX repeatedly (as the surt package does) until nothing changes.
        while true {
            var out: [UInt8] = []
            var i = 0
            var changed = false
            while i < bytes.count {
                if bytes[i] == 0x25, i + 2 < bytes.count, Self.isHex(bytes[i + 1]), Self.isHex(bytes[i + 2]),
                   let v = UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                    out.append(v); i += 3; changed = true
                } else {
                    out.append(bytes[i]); i += 1
                }
            }
            bytes = out
            if !changed { break }
        }
        var out = ""
        for b in bytes {
            if b <= 0x20 || b >= 0x7F || b == 0x23 || b == 0x25 { out += String(format: "%%%02X", b) } else { out.append(Character(Unicode.Scalar(b))) }
        }
        return out
    }

    /// "2026-11-29T04:24:01.964Z" -> "20261129042401"
    static func cdxTimestamp(_ iso: String) -> String { String(iso.filter(\.isNumber).prefix(14)) }

    public func export(ids: [String], to out: String) throws -> Result {
        var cdx: [String] = []
        var pages: [String] = [#"{"format":"json-pages-1.0","id":"pages","title":"All Pages"}"#]
        var warcs: [(name: String, path: String, sha256: String)] = []
        var first: (url: String, ts: String)?
        var seen = Set<String>()
        for id in ids where seen.insert(id).inserted {
            guard let e = try home.ledger.entry(evidenceID: id) else {
                throw EvidenceError(.notFound, zh: "没有证据编号 \(id)", en: "no evidence ID \(id)")
            }
            guard e.entryKind == .web, let ma = e.artifacts.first(where: { $0.name == "manifest.json" }),
                  let wa = e.artifacts.first(where: { $0.name == "capture.warc.gz" }) else {
                throw EvidenceError(.usage, zh: "\(id) 不是网页取证，不能导出为 WACZ", en: "\(id) is not a web capture; only web captures go into a WACZ")
            }
            let mbytes = try POSIXFile.readAll(home.store.path(forSHA256: ma.sha256))
            guard Hex.encode(Hashing.sha256(mbytes)) == ma.sha256, let m = try? MiniJSON.parse(mbytes), let records = m["warc_records"]?.array else {
                throw EvidenceError(.verification, zh: "\(id) 的取证清单已损坏", en: "\(id): the capture manifest is damaged")
            }
            let warcName = BundleExporter.safeComponent(id) + ".warc.gz"
            warcs.append((warcName, home.store.path(forSHA256: wa.sha256), wa.sha256))
            for r in records where r["type"]?.string == "response" {
                guard let uri = r["uri"]?.string, let off = r["offset"]?.int, let len = r["length"]?.int, let date = r["date"]?.string else {
                    throw EvidenceError(.usage, zh: "\(id) 取证时尚未记录 WARC 记录偏移（请用新版本重新取证）",
                                        en: "\(id) was captured before WARC record offsets were recorded; capture it again with this version")
                }
                var o: [String: CanonicalValue] = ["url": .string(uri), "offset": .string(String(off)), "length": .string(String(len)),
                                                   "filename": .string(warcName)]
                if let s = r["status"]?.int { o["status"] = .string(String(s)) }
                if let mime = r["mime"]?.string {
                    let base = mime.split(separator: ";", omittingEmptySubsequences: false).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                    if !base.isEmpty { o["mime"] = .string(base) }
                }
                if let p = r["payload_sha256"]?.string { o["digest"] = .string("sha256:" + p) }
                cdx.append("\(Self.surt(uri)) \(Self.cdxTimestamp(date)) " + String(decoding: CanonicalValue.object(o).canonicalBytes, as: UTF8.self))
            }
            let url = m["final_url"]?.string ?? m["url"]?.string ?? ""
            let ts = m["start"]?.string ?? e.time
            let page: CanonicalValue = .object(["id": .string(id), "url": .string(url), "ts": .string(ts),
                                                "title": .string(e.note ?? url)])
            pages.append(String(decoding: page.canonicalBytes, as: UTF8.self))
            if first == nil { first = (url, ts) }
        }
        cdx.sort()
        let tmp = out + ".part"
        let zip = try ZipWriter(path: tmp)
        var ok = false
        defer { if !ok { unlink(tmp) } }
        var resources: [CanonicalValue] = []
        func record(_ path: String, _ size: Int64, _ sha: String) {
            resources.append(.object(["name": .string((path as NSString).lastPathComponent.lowercased()), "path": .string(path),
                                      "hash": .string("sha256:" + sha), "bytes": .int(size)]))
        }
        for w in warcs {
            let path = "archive/" + w.name
            // The stored WARC must still be the one the ledger names before it goes to a court.
            let h = try ObjectStore.hashFile(w.path)
            guard Hex.encode(h.sha256) == w.sha256 else {
                throw EvidenceError(.verification, zh: "证据库中的 \(w.name) 与账本记载不符", en: "the stored \(w.name) does not match the ledger")
            }
            try zip.add(name: path, file: w.path)
            record(path, h.size, w.sha256)
        }
        for (path, text) in [("indexes/index.cdx", cdx.map { $0 + "\n" }.joined()), ("pages/pages.jsonl", pages.map { $0 + "\n" }.joined())] {
            let b = Array(text.utf8)
            try zip.add(name: path, bytes: b)
            record(path, Int64(b.count), Hex.encode(Hashing.sha256(b)))
        }
        var pkg: [String: CanonicalValue] = [
            "profile": .string("data-package"),
            "resources": .array(resources),
            "created": .string(String(UTCTime.now().prefix(19)) + "Z"),
            "wacz_version": .string("1.1.1"),
            "software": .string("sxevidence \(SXEvidence.version)"),
            "title": .string("sxevidence " + ids.joined(separator: " ")),
        ]
        if let first { pkg["mainPageURL"] = .string(first.url); pkg["mainPageDate"] = .string(first.ts) }
        let pkgBytes = CanonicalValue.object(pkg).canonicalBytes
        try zip.add(name: "datapackage.json", bytes: pkgBytes)
        let digest: CanonicalValue = .object(["path": .string("datapackage.json"), "hash": .string("sha256:" + Hex.encode(Hashing.sha256(pkgBytes)))])
        try zip.add(name: "datapackage-digest.json", bytes: digest.canonicalBytes)
        try zip.finish()
        guard rename(tmp, out) == 0 else { throw POSIXFile.ioError("rename", out) }
        ok = true
        return Result(captures: warcs.count, pages: pages.count - 1, records: cdx.count)
    }
}
