import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Node-to-node calls over the one HTTP client (its connection kept alive across requests). Requests
/// are signed with the node key (RequestAuth) unless `sign` is false, for the destination node
/// `peer` at the authority (host[:port]) of `base`, which is also sent as the Host header.
public final class NodeClient {
    public let base: String
    let node: String
    /// The node ID of the server at `base` (TO-NODE in the signed message).
    public let peer: String
    /// host[:port] of `base`, lowercased: the Host header sent and AUTHORITY in the signed message.
    public let authority: String
    let key: Ed25519Key?
    private let http: HTTPClient
    public var timeoutMs = 120_000
    /// CA file and client certificate for https endpoints; verification on by default.
    public var tls: TLSOptions

    public init(base: String, node: String, peer: String, key: Ed25519Key?, tls: TLSOptions = TLSOptions()) throws {
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        guard b.hasPrefix("http://") || b.hasPrefix("https://") else {
            throw EvidenceError(.usage, zh: "节点地址须以 http:// 或 https:// 开头：\(base)", en: "node endpoint must start with http:// or https://: \(base)")
        }
        // Requests are signed over the path the server sees, so endpoints carry no path of their own.
        guard !b.split(separator: "/", omittingEmptySubsequences: true).dropFirst(2).contains(where: { _ in true }) else {
            throw EvidenceError(.usage, zh: "节点地址只能是 scheme://主机:端口，不能带路径：\(base)", en: "node endpoint must be scheme://host:port with no path: \(base)")
        }
        let hostPart = b.drop(while: { $0 != "/" }).dropFirst(2)
        guard !hostPart.isEmpty, !hostPart.contains("@") else {
            throw EvidenceError(.usage, zh: "节点地址缺少主机名或含用户信息：\(base)", en: "node endpoint has no host or carries user information: \(base)")
        }
        http = try HTTPClient()
        self.base = b
        self.node = node
        self.peer = peer
        self.authority = hostPart.lowercased()
        self.key = key
        self.tls = tls
    }

    /// `uploadFile` streams a file as the body (its SHA-256 must be given); `toFile` streams the answer
    /// to a file; otherwise the answer is kept in memory. Either way at most `maxBytes` are accepted.
    /// `long`: object transfers may take hours on a slow link, so no overall limit, but a stall of
    /// 60 s ends it.
    public func request(_ method: HTTPMethod, _ target: String, body: [UInt8]? = nil, uploadFile: String? = nil,
                        uploadSHA256: String? = nil, sign: Bool = true, toFile: String? = nil,
                        maxBytes: Int64 = 1 << 30, long: Bool = false) throws -> HTTPResponse {
        var r = HTTPRequest(method, base + target, headers: ["Expect:", "Host: \(authority)"], tls: tls)
        r.connectTimeoutMs = 5_000
        r.totalTimeoutMs = long ? 0 : timeoutMs
        if long { r.stallSeconds = 60 }
        r.userAgent = "sxevidence/\(SXEvidence.version)"
        let digest: String
        if let uploadFile {
            guard let d = uploadSHA256 else { throw EvidenceError.internalError(zh: "上传缺少摘要", en: "upload without digest") }
            digest = d
            r.body = .file(path: uploadFile)
            r.headers.append("Content-Type: application/octet-stream")
        } else if let body {
            digest = Hex.encode(Hashing.sha256(body))
            r.body = .bytes(body)
            r.headers.append("Content-Type: text/plain; charset=utf-8")
        } else {
            digest = Hex.encode(Hashing.sha256([]))
        }
        if sign, let key {
            for (k, v) in try RequestAuth.sign(method: method.rawValue, target: target, bodySHA256: digest, node: node, to: peer,
                                               authority: authority, key: key) {
                r.headers.append("\(k): \(v)")
            }
            r.headers.append("SX-Content-SHA256: \(digest)")
        }
        let response: HTTPResponse
        if let toFile {
            let fd = open(toFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw POSIXFile.ioError("open", toFile) }
            defer { close(fd) }
            response = try http.send(r, to: FileSink(fd: fd, path: toFile, limit: maxBytes, source: base))
        } else {
            let sink = MemorySink(limit: Int(min(maxBytes, Int64(Int.max))), source: base)
            var got = try http.send(r, to: sink)
            got.body = sink.bytes
            response = got
        }
        if let e = response.error {
            throw EvidenceError.unavailable(zh: "无法连接节点 \(base)：\(e)", en: "cannot reach node \(base): \(e)")
        }
        return response
    }

    /// Turn a refusal into the error the caller should see.
    public func failure(_ r: HTTPResponse, _ what: String) -> EvidenceError {
        let text = r.text.trimmingCharacters(in: .whitespacesAndNewlines)
        switch r.status {
        case 401, 403:
            return EvidenceError(.denied, zh: "节点 \(base) 拒绝了\(what)：\(text)", en: "node \(base) refused \(what): \(text)")
        case 404:
            return EvidenceError(.notFound, zh: "节点 \(base) 没有\(what)：\(text)", en: "node \(base) has no \(what): \(text)")
        case 422, 400, 413:
            return EvidenceError(.verification, zh: "节点 \(base) 认为\(what)无效（HTTP \(r.status)）：\(text)",
                                 en: "node \(base) found \(what) invalid (HTTP \(r.status)): \(text)")
        default:
            return EvidenceError(.unavailable, zh: "节点 \(base) 对\(what)应答 HTTP \(r.status)：\(text)",
                                 en: "node \(base) answered HTTP \(r.status) to \(what): \(text)")
        }
    }
}
