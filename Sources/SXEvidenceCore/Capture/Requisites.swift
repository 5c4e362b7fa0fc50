import Foundation

/// Finds what a page needs (img, stylesheet, script, iframe, CSS url()) in raw bytes. HTML in any
/// ASCII-compatible charset (UTF-8, GBK, GB18030) is scanned without decoding: markup is ASCII, and
/// non-ASCII bytes inside a URL are percent-encoded as they are, which is what the page's server expects.
enum Requisites {
    static func fromHTML(_ bytes: [UInt8], base: String) -> [String] {
        let text = String(decoding: bytes.map { $0 < 0x80 ? $0 : 0x7F }, as: UTF8.self)
        var urls: [String] = []
        // Tags and the attribute that names what they load.
        let patterns = [
            #"<img\b[^>]*?\ssrc\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)"#,
            #"<script\b[^>]*?\ssrc\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)"#,
            #"<iframe\b[^>]*?\ssrc\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)"#,
            #"<link\b(?=[^>]*\brel\s*=\s*["']?[^"'>]*\b(?:stylesheet|icon)\b)[^>]*?\shref\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)"#,
        ]
        for p in patterns { urls += matches(p, in: text, bytes: bytes) }
        urls += fromCSS(bytes, inHTML: true)
        return resolve(urls, base: base)
    }

    static func fromCSS(_ bytes: [UInt8], base: String) -> [String] { resolve(fromCSS(bytes, inHTML: false), base: base) }

    private static func fromCSS(_ bytes: [UInt8], inHTML: Bool) -> [String] {
        let text = String(decoding: bytes.map { $0 < 0x80 ? $0 : 0x7F }, as: UTF8.self)
        return matches(#"url\(\s*("[^"]*"|'[^']*'|[^)\s]+)\s*\)"#, in: text, bytes: bytes)
    }

    /// Regex over the ASCII view; the captured value is taken from the original bytes at the same offsets.
    private static func matches(_ pattern: String, in text: String, bytes: [UInt8]) -> [String] {
        guard let re = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else { return [] }
        let ns = text as NSString
        var out: [String] = []
        for m in re.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let r = m.range(at: 1)
            guard r.location != NSNotFound else { continue }
            // The ASCII view has one UTF-16 unit per byte, so offsets carry over.
            var v = Array(bytes[r.location..<(r.location + r.length)])
            if let f = v.first, f == 0x22 || f == 0x27 { v = Array(v.dropFirst().dropLast()) }
            out.append(percentEncode(v))
        }
        return out
    }

    private static func percentEncode(_ v: [UInt8]) -> String {
        var s = ""
        for b in v {
            if b >= 0x80 || b == 0x20 { s += String(format: "%%%02X", b) } else { s.append(Character(UnicodeScalar(b))) }
        }
        return s.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "&amp;", with: "&")
    }

    static func resolve(_ refs: [String], base: String) -> [String] {
        guard let baseURL = URL(string: base) else { return [] }
        var seen: Set<String> = []
        var out: [String] = []
        for r in refs where !r.isEmpty && !r.hasPrefix("data:") && !r.hasPrefix("#") && !r.lowercased().hasPrefix("javascript:") {
            guard let u = URL(string: r, relativeTo: baseURL)?.absoluteURL, let scheme = u.scheme?.lowercased(),
                  scheme == "http" || scheme == "https" else { continue }
            var s = u.absoluteString
            if let hash = s.firstIndex(of: "#") { s = String(s[..<hash]) }
            if seen.insert(s).inserted { out.append(s) }
        }
        return out
    }
}
