import Foundation
internal import CSXCurl
#if canImport(Glibc)
import Glibc
#endif

/// HTTP client for node-to-node calls (libcurl easy handle, kept alive across requests). Requests
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
    private let handle: UnsafeMutableRawPointer
    public var timeoutMs = 120_000

    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var contentType: String
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public init(base: String, node: String, peer: String, key: Ed25519Key?) throws {
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
        guard let h = curl_easy_init() else { throw EvidenceError(.internalError, zh: "libcurl 初始化失败", en: "libcurl easy handle could not be created") }
        self.base = b
        self.node = node
        self.peer = peer
        self.authority = hostPart.lowercased()
        self.key = key
        handle = h
    }

    deinit { curl_easy_cleanup(handle) }

    private final class Sink {
        var body: [UInt8] = []
        var fd: Int32 = -1
        var limit: Int64
        var total: Int64 = 0
        var over = false
        var upload: Int32 = -1
        var contentType = ""
        init(limit: Int64) { self.limit = limit }
    }

    /// `uploadFile` streams a file as the body (its SHA-256 must be given); `toFile` streams the answer to a file.
    public func request(_ method: String, _ target: String, body: [UInt8]? = nil, uploadFile: String? = nil,
                        uploadSHA256: String? = nil, sign: Bool = true, toFile: String? = nil,
                        maxBytes: Int64 = 1 << 30, long: Bool = false) throws -> Response {
        curl_easy_reset(handle)
        let url = base + target
        let sink = Sink(limit: maxBytes)
        let me = Unmanaged.passUnretained(sink).toOpaque()
        sx_curl_setopt_string(handle, CURLOPT_URL, url)
        sx_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        sx_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        sx_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 5_000)
        if long {
            // Object transfers may take hours on a slow link: no overall limit, but a stall of 60 s ends it.
            sx_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, 0)
            sx_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
            sx_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, 60)
        } else {
            sx_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMs)
        }
        sx_curl_setopt_string(handle, CURLOPT_USERAGENT, "sxevidence/\(SXEvidence.version)")
        var headerLines: [String] = ["Expect:", "Host: \(authority)"]
        let digest: String
        if let uploadFile {
            guard let d = uploadSHA256 else { throw EvidenceError(.internalError, zh: "上传缺少摘要", en: "upload without digest") }
            digest = d
            sink.upload = open(uploadFile, O_RDONLY | O_CLOEXEC)
            guard sink.upload >= 0 else { throw POSIXFile.ioError("open", uploadFile) }
            var st = stat()
            fstat(sink.upload, &st)
            sx_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            sx_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(st.st_size))
            sx_curl_setopt_write(handle, CURLOPT_READFUNCTION) { buf, size, n, user in
                let s = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
                let r = read(s.upload, buf, size * n)
                return r < 0 ? Int(CURL_READFUNC_ABORT) : r
            }
            sx_curl_setopt_pointer(handle, CURLOPT_READDATA, me)
            sx_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
            headerLines.append("Content-Type: application/octet-stream")
        } else if var body {
            digest = Hex.encode(Hashing.sha256(body))
            sx_curl_setopt_long(handle, CURLOPT_POST, 1)
            sx_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
            body.withUnsafeMutableBytes { _ = sx_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
            sx_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
            headerLines.append("Content-Type: text/plain; charset=utf-8")
        } else {
            digest = Hex.encode(Hashing.sha256([]))
            if method != "GET" { sx_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method) }
        }
        defer { if sink.upload >= 0 { close(sink.upload) } }
        if sign, let key {
            for (k, v) in try RequestAuth.sign(method: method, target: target, bodySHA256: digest, node: node, to: peer,
                                               authority: authority, key: key) {
                headerLines.append("\(k): \(v)")
            }
            headerLines.append("SX-Content-SHA256: \(digest)")
        }
        if let toFile {
            sink.fd = open(toFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard sink.fd >= 0 else { throw POSIXFile.ioError("open", toFile) }
        }
        defer { if sink.fd >= 0 { close(sink.fd) } }
        var list: UnsafeMutablePointer<curl_slist>?
        for h in headerLines { list = curl_slist_append(list, h) }
        defer { curl_slist_free_all(list) }
        sx_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))
        sx_curl_setopt_write(handle, CURLOPT_WRITEFUNCTION) { data, size, n, user in
            let s = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
            let count = size * n
            s.total += Int64(count)
            if s.total > s.limit { s.over = true; return 0 }
            let buf = UnsafeRawBufferPointer(start: data, count: count)
            if s.fd >= 0 {
                var off = 0
                while off < count {
                    let w = write(s.fd, buf.baseAddress! + off, count - off)
                    if w < 0 { if errno == EINTR { continue }; return 0 }
                    off += w
                }
            } else {
                s.body.append(contentsOf: buf)
            }
            return count
        }
        sx_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, me)
        let rc = curl_easy_perform(handle)
        if sink.over {
            throw EvidenceError(.dataError, zh: "节点 \(base) 的应答超过 \(maxBytes) 字节", en: "answer from \(base) exceeds \(maxBytes) bytes")
        }
        guard rc == CURLE_OK else {
            let msg = String(cString: curl_easy_strerror(rc))
            throw EvidenceError(.unavailable, zh: "无法连接节点 \(base)：\(msg)", en: "cannot reach node \(base): \(msg)")
        }
        var status = 0
        sx_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var ct: UnsafeMutablePointer<CChar>?
        sx_curl_getinfo_string(handle, CURLINFO_CONTENT_TYPE, &ct)
        return Response(status: status, body: sink.body, contentType: ct.map { String(cString: $0) } ?? "")
    }

    /// Turn a refusal into the error the caller should see.
    public func failure(_ r: Response, _ what: String) -> EvidenceError {
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
