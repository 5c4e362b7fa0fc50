import Foundation
internal import CSXCurl
#if canImport(Glibc)
import Glibc
#endif

/// Limits and switches for fetching.
public struct FetchOptions: Sendable {
    public var connectTimeoutMs = 15_000
    public var totalTimeoutMs = 120_000
    public var maxRedirects = 10
    public var maxSize: Int64 = 512 << 20
    public var allowInvalidTLS = false
    public var userAgent = "Mozilla/5.0 (X11; Linux x86_64) sxevidence/\(SXEvidence.version)"
    public var caBundle: String?
    /// A POST body and its content type (RFC 3161 requests); nil for GET.
    public var postBody: [UInt8]?
    public var postContentType = "application/octet-stream"
    /// A byte range ("start-end") for HLS EXT-X-BYTERANGE; the answer is then 206.
    public var range: String?

    public init() {}
}

/// One libcurl easy handle fetching one URL (one hop; redirects are followed by the caller, so that
/// every hop is recorded). Bytes are kept exactly as received: no transfer or content decoding.
final class CurlTransfer {
    let handle: UnsafeMutableRawPointer
    var exchange: HTTPExchange
    let options: FetchOptions
    let verifyTLS: Bool
    private var out: Int32 = -1
    private let sha = StreamingDigest(.sha256)
    private let sm3 = StreamingDigest(.sm3)
    /// WARC-Block-Digest of the response record: the head as received, then the raw body.
    private let block = StreamingDigest(.sha256)
    private var blockStarted = false
    private var headers: OpaquePointer?
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    private(set) var writeFailed: EvidenceError?
    let tmpDir: String
    let id: Int

    /// Where libcurl looks for trusted CAs by default (recorded in the environment record).
    static var defaultCABundle: String {
        guard let h = curl_easy_init() else { return "" }
        defer { curl_easy_cleanup(h) }
        var p: UnsafeMutablePointer<CChar>?
        sx_curl_getinfo_string(h, CURLINFO_CAINFO, &p)
        return p.map { String(cString: $0) } ?? ""
    }

    init(url: String, options: FetchOptions, verifyTLS: Bool, tmpDir: String, id: Int) throws {
        guard let h = curl_easy_init() else {
            throw EvidenceError(.internalError, zh: "libcurl 初始化失败", en: "libcurl easy handle could not be created")
        }
        handle = h
        exchange = HTTPExchange(url: url)
        self.options = options
        self.verifyTLS = verifyTLS
        self.tmpDir = tmpDir
        self.id = id
        configure()
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headers { curl_slist_free_all(UnsafeMutablePointer(headers)) }
        if out >= 0 { close(out) }
    }

    private func configure() {
        let me = Unmanaged.passUnretained(self).toOpaque()
        sx_curl_setopt_string(handle, CURLOPT_URL, exchange.url)
        sx_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        // HTTP/1.1 so that what is stored is what crossed the wire (HTTP/2 frames are not a byte stream).
        sx_curl_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        sx_curl_setopt_long(handle, CURLOPT_HTTP_TRANSFER_DECODING, 0)
        sx_curl_setopt_long(handle, CURLOPT_HTTP_CONTENT_DECODING, 0)
        sx_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        sx_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeoutMs)
        sx_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, options.totalTimeoutMs)
        sx_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        sx_curl_setopt_long(handle, CURLOPT_CERTINFO, 1)
        sx_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, verifyTLS ? 1 : 0)
        sx_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, verifyTLS ? 2 : 0)
        if let ca = options.caBundle { sx_curl_setopt_string(handle, CURLOPT_CAINFO, ca) }
        if let r = options.range { sx_curl_setopt_string(handle, CURLOPT_RANGE, r) }
        sx_curl_setopt_string(handle, CURLOPT_USERAGENT, options.userAgent)
        var list: UnsafeMutablePointer<curl_slist>?
        var headerLines = ["Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                           "Accept-Language: zh-CN,zh;q=0.9,en;q=0.5", "Accept-Encoding: gzip, deflate"]
        if var body = options.postBody {
            headerLines = ["Content-Type: \(options.postContentType)", "Accept: */*"]
            sx_curl_setopt_long(handle, CURLOPT_POST, 1)
            sx_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
            body.withUnsafeMutableBytes { _ = sx_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
        }
        for h in headerLines {
            list = curl_slist_append(list, h)
        }
        headers = OpaquePointer(list)
        sx_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(list))
        sx_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, &errorBuffer)
        sx_curl_setopt_long(handle, CURLOPT_VERBOSE, 1)
        sx_curl_setopt_debug(handle) { _, type, data, size, user in
            let t = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
            t.onDebug(type, UnsafeRawBufferPointer(start: data, count: size))
            return 0
        }
        sx_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, me)
        sx_curl_setopt_write(handle, CURLOPT_HEADERFUNCTION) { data, size, n, user in
            let t = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
            return t.onHeader(UnsafeRawBufferPointer(start: data, count: size * n))
        }
        sx_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, me)
        sx_curl_setopt_write(handle, CURLOPT_WRITEFUNCTION) { data, size, n, user in
            let t = Unmanaged<CurlTransfer>.fromOpaque(user!).takeUnretainedValue()
            return t.onBody(UnsafeRawBufferPointer(start: data, count: size * n))
        }
        sx_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, me)
        sx_curl_setopt_pointer(handle, CURLOPT_PRIVATE, me)
    }

    private func onDebug(_ type: curl_infotype, _ data: UnsafeRawBufferPointer) {
        switch type {
        case CURLINFO_HEADER_OUT:
            exchange.requestHead = Array(data)
        case CURLINFO_TEXT:
            let line = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { return }
            exchange.log.append(line)
            // "SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384"
            if line.hasPrefix("SSL connection using ") {
                let parts = line.dropFirst("SSL connection using ".count).components(separatedBy: " / ")
                exchange.tlsVersion = parts.first
                if parts.count > 1 { exchange.tlsCipher = parts[1] }
            }
        default:
            break
        }
    }

    private func onHeader(_ data: UnsafeRawBufferPointer) -> Int {
        // A new status line (after 1xx or a proxy CONNECT) starts the head again.
        if data.starts(with: Array("HTTP/".utf8)) { exchange.responseHead = [] }
        exchange.responseHead.append(contentsOf: data)
        return data.count
    }

    private func onBody(_ data: UnsafeRawBufferPointer) -> Int {
        if out < 0 {
            let path = "\(tmpDir)/\(getpid())-fetch-\(id)-\(UInt32.random(in: 0...UInt32.max)).body"
            out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if out < 0 {
                writeFailed = POSIXFile.ioError(zh: "无法写入临时文件", en: "cannot write a temporary file", path)
                return 0
            }
            exchange.bodyPath = path
        }
        var chunk = data
        var overLimit = false
        if exchange.bodySize + Int64(chunk.count) > options.maxSize {
            chunk = UnsafeRawBufferPointer(rebasing: chunk[0..<Int(options.maxSize - exchange.bodySize)])
            overLimit = true
        }
        var off = 0
        while off < chunk.count {
            let w = write(out, chunk.baseAddress! + off, chunk.count - off)
            if w < 0 {
                if errno == EINTR { continue }
                writeFailed = POSIXFile.ioError(zh: "写入临时文件失败", en: "cannot write a temporary file", exchange.bodyPath ?? "", errno)
                return 0
            }
            off += w
        }
        if !blockStarted {
            block.update(exchange.responseHead)
            blockStarted = true
        }
        sha.update(chunk)
        sm3.update(chunk)
        block.update(chunk)
        exchange.bodySize += Int64(chunk.count)
        if overLimit {
            exchange.truncated = "length"
            return 0   // stops the transfer (CURLE_WRITE_ERROR), recorded as truncation, not failure
        }
        return data.count
    }

    /// Collect what libcurl knows once the transfer is over.
    func finish(code: CURLcode) {
        if out >= 0 {
            fsync(out)
            close(out)
            out = -1
        }
        if !blockStarted { block.update(exchange.responseHead) }
        exchange.blockSHA256 = block.finish()
        exchange.bodySHA256 = sha.finish()
        exchange.bodySM3 = sm3.finish()
        exchange.curlCode = Int(code.rawValue)
        exchange.finished = UTCTime.now()
        var status = 0
        sx_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        exchange.status = status
        var v = 0
        sx_curl_getinfo_long(handle, CURLINFO_HTTP_VERSION, &v)
        exchange.httpVersion = v == Int(CURL_HTTP_VERSION_1_0) ? "HTTP/1.0" : v == Int(CURL_HTTP_VERSION_1_1) ? "HTTP/1.1" : v == 0 ? "" : "HTTP/2+"
        exchange.primaryIP = string(CURLINFO_PRIMARY_IP)
        exchange.localIP = string(CURLINFO_LOCAL_IP)
        var port = 0
        sx_curl_getinfo_long(handle, CURLINFO_PRIMARY_PORT, &port)
        exchange.primaryPort = port
        sx_curl_getinfo_long(handle, CURLINFO_LOCAL_PORT, &port)
        exchange.localPort = port
        for (name, info) in [("dns", CURLINFO_NAMELOOKUP_TIME_T), ("connect", CURLINFO_CONNECT_TIME_T),
                             ("tls", CURLINFO_APPCONNECT_TIME_T), ("first_byte", CURLINFO_STARTTRANSFER_TIME_T),
                             ("total", CURLINFO_TOTAL_TIME_T)] {
            var t: curl_off_t = 0
            sx_curl_getinfo_off_t(handle, info, &t)
            exchange.timings[name] = Int64(t)
        }
        if exchange.url.lowercased().hasPrefix("https:") {
            var vr = 0
            sx_curl_getinfo_long(handle, CURLINFO_SSL_VERIFYRESULT, &vr)
            exchange.tlsVerified = verifyTLS && code == CURLE_OK ? true : (vr == 0 && verifyTLS)
            exchange.certificates = certificateChain()
        }
        if code != CURLE_OK {
            let detail = String(cString: errorBuffer)
            let msg = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            if exchange.truncated == "length" && code == CURLE_WRITE_ERROR {
                // Our own stop at --max-size.
            } else if code == CURLE_OPERATION_TIMEDOUT && !exchange.responseHead.isEmpty {
                exchange.truncated = "time"
                exchange.error = msg
            } else if !exchange.responseHead.isEmpty && (code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR) {
                exchange.truncated = "disconnect"
                exchange.error = msg
            } else {
                exchange.error = msg
            }
        }
    }

    private func string(_ info: CURLINFO) -> String {
        var p: UnsafeMutablePointer<CChar>?
        sx_curl_getinfo_string(handle, info, &p)
        return p.map { String(cString: $0) } ?? ""
    }

    private func certificateChain() -> [String] {
        var raw: UnsafeMutableRawPointer?
        guard sx_curl_getinfo_pointer(handle, CURLINFO_CERTINFO, &raw) == CURLE_OK, let raw else { return [] }
        let info = raw.assumingMemoryBound(to: curl_certinfo.self).pointee
        var out: [String] = []
        for i in 0..<Int(info.num_of_certs) {
            var node = info.certinfo[i]
            while let n = node {
                let s = String(cString: n.pointee.data)
                if s.hasPrefix("Cert:") { out.append(String(s.dropFirst(5))) }
                node = n.pointee.next
            }
        }
        return out
    }
}
