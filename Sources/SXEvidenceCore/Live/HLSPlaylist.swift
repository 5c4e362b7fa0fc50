import Foundation

/// RFC 8216 playlists: what a live capture needs from master and media playlists.
public enum HLSPlaylist: Sendable {
    case master([Variant])
    case media(Media)

    public struct Variant: Sendable, Equatable {
        public var uri: String            // resolved against the playlist's final URL
        public var bandwidth: Int
        public var resolution: String?
        public var name: String?
        public var attributes: String
    }

    public struct Key: Sendable, Equatable {
        public var method: String         // NONE, AES-128, SAMPLE-AES
        public var uri: String?
        public var iv: [UInt8]?
    }

    public struct Map: Sendable, Equatable {
        public var uri: String
        public var range: ByteRange?
    }

    public struct ByteRange: Sendable, Equatable {
        public var length: Int64
        public var offset: Int64
        /// "first-last" (inclusive), as CURLOPT_RANGE and the manifest write it.
        public var curlRange: String { "\(offset)-\(offset + length - 1)" }
    }

    public struct Segment: Sendable, Equatable {
        public var sequence: Int64
        public var uri: String
        public var duration: Double
        public var discontinuity: Bool     // EXT-X-DISCONTINUITY before this segment
        public var discontinuitySequence: Int64
        public var key: Key?
        public var map: Map?
        public var range: ByteRange?
        public var programDateTime: String?
    }

    public struct Media: Sendable, Equatable {
        public var targetDuration: Double
        public var mediaSequence: Int64
        public var discontinuitySequence: Int64
        public var segments: [Segment]
        public var endList: Bool
    }

    public static func parse(_ bytes: [UInt8], base: String) throws -> HLSPlaylist {
        let bad = { (what: String) in EvidenceError(.dataError, zh: "播放列表格式错误：\(what)", en: "malformed playlist: \(what)") }
        guard let text = String(bytes: bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes, encoding: .utf8) else {
            throw bad("not UTF-8")
        }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.first == "#EXTM3U" else {
            throw EvidenceError(.dataError, zh: "不是 HLS 播放列表（缺少 #EXTM3U）", en: "not an HLS playlist (no #EXTM3U)")
        }
        let baseURL = URL(string: base)
        func resolve(_ u: String) -> String { URL(string: u, relativeTo: baseURL)?.absoluteURL.absoluteString ?? u }

        if lines.contains(where: { $0.hasPrefix("#EXT-X-STREAM-INF:") }) {
            var variants: [Variant] = []
            var pending: String?
            for l in lines {
                if l.hasPrefix("#EXT-X-STREAM-INF:") { pending = String(l.dropFirst("#EXT-X-STREAM-INF:".count)); continue }
                if let attrs = pending, !l.isEmpty, !l.hasPrefix("#") {
                    let a = attributes(attrs)
                    guard let bw = a["BANDWIDTH"].flatMap({ Int($0) }) else { throw bad("EXT-X-STREAM-INF without BANDWIDTH") }
                    variants.append(Variant(uri: resolve(l), bandwidth: bw, resolution: a["RESOLUTION"], name: a["NAME"] ?? a["VIDEO"], attributes: attrs))
                    pending = nil
                }
            }
            guard !variants.isEmpty else { throw bad("master playlist without variants") }
            return .master(variants)
        }

        var target: Double?
        var mediaSeq: Int64 = 0
        var discSeq: Int64 = 0
        var segments: [Segment] = []
        var endList = false
        var duration: Double?
        var disc = false
        var key: Key?
        var map: Map?
        var range: ByteRange?
        var pdt: String?
        var lastRangeEnd: [String: Int64] = [:]
        var pendingRange: (Int64, Int64?)?
        for l in lines {
            if l.isEmpty { continue }
            if l.hasPrefix("#EXT-X-TARGETDURATION:") {
                guard let t = Double(l.dropFirst("#EXT-X-TARGETDURATION:".count)), t > 0, t.isFinite, t < 86400 else { throw bad("EXT-X-TARGETDURATION") }
                target = t
            } else if l.hasPrefix("#EXT-X-MEDIA-SEQUENCE:") {
                guard let s = Int64(l.dropFirst("#EXT-X-MEDIA-SEQUENCE:".count)), s >= 0 else { throw bad("EXT-X-MEDIA-SEQUENCE") }
                mediaSeq = s
            } else if l.hasPrefix("#EXT-X-DISCONTINUITY-SEQUENCE:") {
                guard let s = Int64(l.dropFirst("#EXT-X-DISCONTINUITY-SEQUENCE:".count)) else { throw bad("EXT-X-DISCONTINUITY-SEQUENCE") }
                discSeq = s
            } else if l.hasPrefix("#EXTINF:") {
                let v = l.dropFirst("#EXTINF:".count).split(separator: ",", maxSplits: 1).first ?? ""
                guard let d = Double(v), d >= 0, d.isFinite, d < 86400 else { throw bad("EXTINF") }
                duration = d
            } else if l == "#EXT-X-DISCONTINUITY" {
                disc = true
            } else if l == "#EXT-X-ENDLIST" {
                endList = true
            } else if l.hasPrefix("#EXT-X-KEY:") {
                let a = attributes(String(l.dropFirst("#EXT-X-KEY:".count)))
                guard let method = a["METHOD"] else { throw bad("EXT-X-KEY without METHOD") }
                if method == "NONE" { key = nil; continue }
                guard let uri = a["URI"] else { throw bad("EXT-X-KEY without URI") }
                var iv: [UInt8]?
                if let ivText = a["IV"] {
                    let h = ivText.lowercased().hasPrefix("0x") ? String(ivText.dropFirst(2)) : ivText
                    guard let b = Hex.decode(h), b.count == 16 else { throw bad("EXT-X-KEY IV") }
                    iv = b
                }
                key = Key(method: method, uri: resolve(uri), iv: iv)
            } else if l.hasPrefix("#EXT-X-MAP:") {
                let a = attributes(String(l.dropFirst("#EXT-X-MAP:".count)))
                guard let uri = a["URI"] else { throw bad("EXT-X-MAP without URI") }
                var r: ByteRange?
                if let br = a["BYTERANGE"] {
                    let p = br.split(separator: "@")
                    guard let f = p.first, let n = Int64(f), n > 0, p.count <= 2 else { throw bad("EXT-X-MAP BYTERANGE") }
                    var off: Int64 = 0
                    if p.count == 2 { guard let o = Int64(p[1]), o >= 0 else { throw bad("EXT-X-MAP BYTERANGE") }; off = o }
                    r = ByteRange(length: n, offset: off)
                }
                map = Map(uri: resolve(uri), range: r)
            } else if l.hasPrefix("#EXT-X-BYTERANGE:") {
                let p = l.dropFirst("#EXT-X-BYTERANGE:".count).split(separator: "@")
                guard let f = p.first, let n = Int64(f), n > 0, p.count <= 2 else { throw bad("EXT-X-BYTERANGE") }
                var off: Int64?
                if p.count == 2 { guard let o = Int64(p[1]), o >= 0 else { throw bad("EXT-X-BYTERANGE") }; off = o }
                pendingRange = (n, off)
            } else if l.hasPrefix("#EXT-X-PROGRAM-DATE-TIME:") {
                pdt = String(l.dropFirst("#EXT-X-PROGRAM-DATE-TIME:".count))
            } else if !l.hasPrefix("#") {
                guard let d = duration else { throw bad("segment URI without EXTINF: \(l)") }
                let uri = resolve(l)
                if let (n, off) = pendingRange {
                    let start = off ?? lastRangeEnd[uri] ?? 0
                    range = ByteRange(length: n, offset: start)
                    lastRangeEnd[uri] = start + n
                } else {
                    range = nil
                }
                segments.append(Segment(sequence: mediaSeq + Int64(segments.count), uri: uri, duration: d, discontinuity: disc,
                                        discontinuitySequence: 0, key: key, map: map, range: range, programDateTime: pdt))
                duration = nil
                disc = false
                pdt = nil
                pendingRange = nil
            }
        }
        guard let target else { throw bad("media playlist without EXT-X-TARGETDURATION") }
        // Discontinuity sequence of each segment: the playlist's value plus the discontinuities before it.
        var d = discSeq
        for i in segments.indices {
            if segments[i].discontinuity { d += 1 }
            segments[i].discontinuitySequence = d
        }
        return .media(Media(targetDuration: target, mediaSequence: mediaSeq, discontinuitySequence: discSeq, segments: segments, endList: endList))
    }

    /// RFC 8216 §4.2 attribute lists.
    static func attributes(_ s: String) -> [String: String] {
        var out: [String: String] = [:]
        var i = s.startIndex
        while i < s.endIndex {
            guard let eq = s[i...].firstIndex(of: "=") else { break }
            let name = s[i..<eq].trimmingCharacters(in: .whitespaces)
            var j = s.index(after: eq)
            var value = ""
            if j < s.endIndex && s[j] == "\"" {
                let start = s.index(after: j)
                let end = s[start...].firstIndex(of: "\"") ?? s.endIndex
                value = String(s[start..<end])
                j = end < s.endIndex ? s.index(after: end) : end
            } else {
                let end = s[j...].firstIndex(of: ",") ?? s.endIndex
                value = String(s[j..<end])
                j = end
            }
            out[name] = value
            if j < s.endIndex && s[j] == "," { j = s.index(after: j) }
            i = j
        }
        return out
    }
}
