import Foundation

/// One request the browser sent to the recording proxy, parsed strictly (RFC 9112): a request
/// line of token method, target and HTTP/1.x, then header fields, each `name: value` with a
/// token name; no obsolete line folding. Anything else is refused with a status the proxy answers
/// (and records) itself.
struct ProxyRequest {
    var method: String
    var target: String
    var version: String
    var headers: [(name: String, value: String)]
    /// The head exactly as the browser sent it (request line to the empty line).
    var head: [UInt8]

    /// A refusal: the status the proxy answers with and why (for the capture log).
    struct Refusal: Error {
        var status: Int
        var reason: String
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    func headers(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    static let tokenChars = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    static func isToken(_ s: Substring) -> Bool { !s.isEmpty && s.utf8.allSatisfy { tokenChars.contains($0) } }

    static func parse(_ head: [UInt8]) throws(Refusal) -> ProxyRequest {
        // Header bytes must be visible ASCII, space, tab or obs-text; a NUL or bare CR is refused.
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        while lines.last == "" { lines.removeLast() }
        guard let first = lines.first else { throw Refusal(status: 400, reason: "empty request") }
        let parts = first.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, isToken(parts[0]), !parts[1].isEmpty, parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0" else {
            throw Refusal(status: 400, reason: "malformed request line")
        }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), isToken(line[..<colon]) else {
                throw Refusal(status: 400, reason: "malformed header field")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            guard !value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else {
                throw Refusal(status: 400, reason: "control character in a header field")
            }
            headers.append((String(line[..<colon]), value))
        }
        return ProxyRequest(method: String(parts[0]), target: String(parts[1]), version: String(parts[2]),
                            headers: headers, head: head)
    }

    /// The body length the browser declared: nil for none; refused when repeated with different
    /// values, not a decimal number, larger than `limit`, or when the body is chunked (browsers
    /// send chunked request bodies only for streaming uploads, which the proxy does not take).
    func bodyLength(limit: Int) throws(Refusal) -> Int? {
        if !headers("transfer-encoding").isEmpty { throw Refusal(status: 411, reason: "chunked request body not accepted") }
        let values = Set(headers("content-length"))
        guard let v = values.first else { return nil }
        guard values.count == 1, !v.isEmpty, v.utf8.count <= 18, v.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(v) else {
            throw Refusal(status: 400, reason: "malformed Content-Length")
        }
        guard n <= limit else { throw Refusal(status: 413, reason: "request body of \(n) bytes is over the limit of \(limit)") }
        return n
    }

    /// `host:port` of a CONNECT target (an IPv6 literal in brackets), checked for range.
    static func authority(_ s: String, defaultPort: Int? = nil) -> (host: String, port: Int)? {
        var host = Substring(s)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
            host = host[...close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[]:".utf8)
        guard !host.isEmpty, host.utf8.count <= 255, host.utf8.allSatisfy({ allowed.contains($0) }) else { return nil }
        let port: Int
        if let p = portText {
            guard !p.isEmpty, p.count <= 5, p.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(p), (1...65535).contains(n) else { return nil }
            port = n
        } else if let d = defaultPort {
            port = d
        } else {
            return nil
        }
        return (String(host), port)
    }

    /// The header lines to send upstream through libcurl: the browser's own fields in order, but
    /// none that belongs to the hop to the proxy (Proxy-Connection, Proxy-Authorization) and no
    /// Content-Length (libcurl sends the body's, which is the same number). A field libcurl would
    /// add on its own and the browser did not send (Accept; Content-Type for a body; Expect) is
    /// suppressed, so nothing is added to what the browser asked for.
    func upstreamHeaders(hasBody: Bool) -> [String] {
        var out: [String] = []
        for (name, value) in headers {
            switch name.lowercased() {
            case "proxy-connection", "proxy-authorization", "content-length": continue
            default: out.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
            }
        }
        if header("accept") == nil { out.append("Accept:") }
        if hasBody && header("content-type") == nil { out.append("Content-Type:") }
        if header("expect") == nil { out.append("Expect:") }
        return out
    }
}
