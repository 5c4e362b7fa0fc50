import Foundation

/// One cookie of a `--cookies` file.
public struct BrowserCookie: Sendable, Equatable {
    public var domain: String
    public var path: String
    public var secure: Bool
    public var httpOnly: Bool
    public var expires: Int64
    public var name: String
    public var value: String

    /// What the manifest records of a cookie: never the value, only its SHA-256.
    public var recorded: CanonicalValue {
        .object(["domain": .string(domain), "name": .string(name), "path": .string(path),
                 "value_sha256": .string(Hex.encode(Hashing.sha256(Array(value.utf8))))])
    }

    /// A Netscape cookie file (the format of curl, wget and browser exports): one cookie per line,
    /// seven tab-separated fields (domain, include-subdomains, path, secure, expiry, name, value);
    /// `#` lines are comments except the `#HttpOnly_` domain prefix. At most 1 MiB and 1000 cookies;
    /// an error names the line.
    public static func parseNetscape(_ bytes: [UInt8]) throws -> [BrowserCookie] {
        guard bytes.count <= 1 << 20 else {
            throw EvidenceError.usage(zh: "cookie 文件超过 1 MiB", en: "the cookie file is over 1 MiB")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw EvidenceError.usage(zh: "cookie 文件不是 UTF-8 文本", en: "the cookie file is not UTF-8 text")
        }
        var out: [BrowserCookie] = []
        // By scalar: "\r\n" is one Character in Swift, which Character-wise splitting would not split.
        for (k, raw) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).enumerated() {
            var line = raw.hasSuffix("\r") ? raw.dropLast() : Substring(raw)
            var httpOnly = false
            if line.hasPrefix("#HttpOnly_") {
                httpOnly = true
                line = line.dropFirst("#HttpOnly_".count)
            } else if line.hasPrefix("#") || line.trimmingCharacters(in: .whitespaces).isEmpty {
                continue
            }
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            let n = k + 1
            guard f.count == 7, !f[0].isEmpty, !f[5].isEmpty, let expires = Int64(f[4]),
                  ["TRUE", "FALSE"].contains(f[1]), ["TRUE", "FALSE"].contains(f[3]),
                  !line.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" }) else {
                throw EvidenceError.usage(zh: "cookie 文件第 \(n) 行格式错误（应为 7 个以制表符分隔的字段）",
                                          en: "cookie file line \(n) is malformed (7 tab-separated fields expected)")
            }
            out.append(BrowserCookie(domain: String(f[0]), path: String(f[2]), secure: f[3] == "TRUE", httpOnly: httpOnly,
                                     expires: expires, name: String(f[5]), value: String(f[6])))
            guard out.count <= 1000 else {
                throw EvidenceError.usage(zh: "cookie 文件超过 1000 条", en: "the cookie file holds more than 1000 cookies")
            }
        }
        return out
    }
}
