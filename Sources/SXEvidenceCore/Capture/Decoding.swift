import CompressNIO
import NIOCore

/// Derived, labelled views of a stored body, for parsing only; what is stored is never decoded.
enum Decoding {
    /// Remove chunked transfer coding (RFC 9112 §7.1); nil when the framing is broken.
    static func dechunk(_ raw: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var i = 0
        while i < raw.count {
            guard let lineEnd = find(raw, [0x0D, 0x0A], from: i) else { return nil }
            let sizeText = String(decoding: raw[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            i = lineEnd + 2
            if size == 0 { return out }
            guard i + size <= raw.count else { return nil }
            out.append(contentsOf: raw[i..<(i + size)])
            i += size + 2
        }
        return out
    }

    static func gunzip(_ data: [UInt8]) -> [UInt8]? {
        var input = ByteBuffer(bytes: data)
        guard let out = try? input.decompress(with: .gzip(), maxSize: 64 << 20) else { return nil }
        return Array(out.readableBytesView)
    }

    static func inflate(_ data: [UInt8]) -> [UInt8]? {
        var input = ByteBuffer(bytes: data)
        guard let out = try? input.decompress(with: .zlib(), maxSize: 64 << 20) else { return nil }
        return Array(out.readableBytesView)
    }

    /// The entity as a browser would see it: transfer coding removed, then content coding.
    static func view(of ex: HTTPExchange) -> [UInt8]? {
        guard let path = ex.bodyPath, ex.bodySize <= 16 << 20, var body = try? POSIXFile.readAll(path) else { return nil }
        if ex.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            guard let d = dechunk(body) else { return nil }
            body = d
        }
        switch ex.header("content-encoding")?.lowercased() {
        case "gzip", "x-gzip": return gunzip(body)
        case "deflate": return inflate(body)
        case nil, "identity", "": return body
        default: return nil
        }
    }

    /// The entity body with only the transfer coding removed: the WARC 1.1 §6.3.2 payload.
    static func entitySHA256(of ex: HTTPExchange) -> String? {
        guard ex.header("transfer-encoding")?.lowercased().contains("chunked") == true else { return Hex.encode(ex.bodySHA256) }
        guard let path = ex.bodyPath, ex.bodySize <= 256 << 20, let raw = try? POSIXFile.readAll(path),
              let d = dechunk(raw) else { return nil }
        return Hex.encode(Hashing.sha256(d))
    }

    private static func find(_ a: [UInt8], _ pat: [UInt8], from: Int) -> Int? {
        var i = from
        while i + pat.count <= a.count {
            if a[i] == pat[0] && a[i + 1] == pat[1] { return i }
            i += 1
        }
        return nil
    }
}
