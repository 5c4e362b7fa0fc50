import Foundation
internal import CSXCurl
#if canImport(Glibc)
import Glibc
#endif

/// The one owner of libcurl easy handles: the handle, its header list, its error buffer, the
/// upload file and the callbacks. Only this file calls curl_easy_init, curl_easy_setopt (through
/// the shim's typed wrappers) and curl_slist_*. `HTTPClient` performs one transfer at a time on it;
/// `CurlMulti` (same folder) borrows `handle` to run many at once. Nothing here leaves the folder
/// as a C pointer: what a transfer produced is returned as an `HTTPResponse`.
final class CurlEasy {
    /// Borrowed by `CurlMulti` to add and remove the transfer; freed only by `deinit`.
    let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var upload: Int32 = -1
    private var uploadPath = ""
    private var uploadFailed: EvidenceError?
    private var sink: HTTPBodySink?
    private var request = HTTPRequest(.get, "")
    private var response = HTTPResponse(url: "")

    init() throws {
        guard let h = curl_easy_init() else {
            throw EvidenceError.internalError(zh: "libcurl 初始化失败", en: "libcurl easy handle could not be created")
        }
        handle = h
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        if upload >= 0 { close(upload) }
        errorBuffer.deallocate()
    }

    /// Where libcurl looks for trusted CAs by default (CURLINFO_CAINFO).
    static var defaultCAFile: String {
        guard let h = curl_easy_init() else { return "" }
        defer { curl_easy_cleanup(h) }
        var p: UnsafeMutablePointer<CChar>?
        sx_curl_getinfo_string(h, CURLINFO_CAINFO, &p)
        return p.map { String(cString: $0) } ?? ""
    }

    /// The version string of the libcurl loaded at run time ("libcurl/7.88.1 OpenSSL/3.0.15 ...").
    static var libraryVersion: String { String(cString: sx_curl_version()) }

    /// Set the handle up for `r` (forgetting the previous transfer's settings but not its
    /// connections), with the body going to `sink`.
    func prepare(_ r: HTTPRequest, sink: HTTPBodySink) throws {
        curl_easy_reset(handle)
        curl_slist_free_all(headerList)
        headerList = nil
        if upload >= 0 { close(upload); upload = -1 }
        uploadFailed = nil
        errorBuffer[0] = 0
        request = r
        self.sink = sink
        response = HTTPResponse(url: r.url)
        let me = Unmanaged.passUnretained(self).toOpaque()
        sx_curl_setopt_string(handle, CURLOPT_URL, r.url)
        sx_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        if r.asReceived || r.http11Only {
            sx_curl_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        }
        if r.asReceived {
            sx_curl_setopt_long(handle, CURLOPT_HTTP_TRANSFER_DECODING, 0)
            sx_curl_setopt_long(handle, CURLOPT_HTTP_CONTENT_DECODING, 0)
        }
        sx_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        sx_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, r.connectTimeoutMs)
        sx_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, r.totalTimeoutMs)
        if let s = r.stallSeconds {
            sx_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
            sx_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, s)
        }
        sx_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        if r.record { sx_curl_setopt_long(handle, CURLOPT_CERTINFO, 1) }
        if r.connectOnly { sx_curl_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1) }
        if r.cancel != nil {
            sx_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
            sx_curl_setopt_xferinfo(handle) { user, _, _, _, _ in
                let e = Unmanaged<CurlEasy>.fromOpaque(user!).takeUnretainedValue()
                return e.request.cancel?.isSet == true ? 1 : 0
            }
            sx_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, me)
        }
        configureTLS(r.tls)
        if let range = r.range { sx_curl_setopt_string(handle, CURLOPT_RANGE, range) }
        if let ua = r.userAgent { sx_curl_setopt_string(handle, CURLOPT_USERAGENT, ua) }
        try configureMethod(r)
        for line in r.headers { headerList = curl_slist_append(headerList, line) }
        sx_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headerList))
        sx_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        if r.record {
            sx_curl_setopt_long(handle, CURLOPT_VERBOSE, 1)
            sx_curl_setopt_debug(handle) { _, type, data, size, user in
                let e = Unmanaged<CurlEasy>.fromOpaque(user!).takeUnretainedValue()
                e.onDebug(type, UnsafeRawBufferPointer(start: data, count: size))
                return 0
            }
            sx_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, me)
        }
        sx_curl_setopt_write(handle, CURLOPT_HEADERFUNCTION) { data, size, n, user in
            let e = Unmanaged<CurlEasy>.fromOpaque(user!).takeUnretainedValue()
            return e.onHeader(UnsafeRawBufferPointer(start: data, count: size * n))
        }
        sx_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, me)
        sx_curl_setopt_write(handle, CURLOPT_WRITEFUNCTION) { data, size, n, user in
            let e = Unmanaged<CurlEasy>.fromOpaque(user!).takeUnretainedValue()
            let chunk = UnsafeRawBufferPointer(start: data, count: size * n)
            return e.sink?.receive(chunk, head: e.response.head) == true ? chunk.count : 0
        }
        sx_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, me)
        response.started = UTCTime.now()
    }

    private func configureTLS(_ t: TLSOptions) {
        sx_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, t.verifyPeer ? 1 : 0)
        sx_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, t.verifyHost ? 2 : 0)
        if let ca = t.caFile { sx_curl_setopt_string(handle, CURLOPT_CAINFO, ca) }
        if let cert = t.clientCertFile {
            sx_curl_setopt_string(handle, CURLOPT_SSLCERT, cert)
            sx_curl_setopt_string(handle, CURLOPT_SSLCERTTYPE, "PEM")
        }
        if let key = t.clientKeyFile { sx_curl_setopt_string(handle, CURLOPT_SSLKEY, key) }
    }

    private func configureMethod(_ r: HTTPRequest) throws {
        switch r.body {
        case .none:
            switch r.method {
            case .get: sx_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
            case .head: sx_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
            case .post, .put: setBytes([], method: r.method)
            case .delete, .options, .patch:
                sx_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
                sx_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, r.method.rawValue)
            }
        case .bytes(let bytes):
            setBytes(bytes, method: r.method)
        case .file(let path):
            upload = open(path, O_RDONLY | O_CLOEXEC)
            guard upload >= 0 else { throw POSIXFile.ioError("open", path) }
            uploadPath = path
            var st = stat()
            guard fstat(upload, &st) == 0 else { throw POSIXFile.ioError("fstat", path) }
            sx_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            sx_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(st.st_size))
            sx_curl_setopt_write(handle, CURLOPT_READFUNCTION) { buf, size, n, user in
                let e = Unmanaged<CurlEasy>.fromOpaque(user!).takeUnretainedValue()
                let got = POSIXFile.readSome(e.upload, into: UnsafeMutableRawBufferPointer(start: buf, count: size * n))
                if got < 0 {
                    e.uploadFailed = POSIXFile.ioError("read", e.uploadPath)
                    return Int(CURL_READFUNC_ABORT)
                }
                return got
            }
            sx_curl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(self).toOpaque())
            if r.method != .put { sx_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, r.method.rawValue) }
        }
    }

    /// A body from memory: libcurl keeps its own copy (CURLOPT_COPYPOSTFIELDS).
    private func setBytes(_ bytes: [UInt8], method: HTTPMethod) {
        var body = bytes
        sx_curl_setopt_long(handle, CURLOPT_POST, 1)
        sx_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
        if body.isEmpty { body = [0] }   // a valid pointer; the size above is what counts
        body.withUnsafeMutableBytes { _ = sx_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
        if method != .post { sx_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method.rawValue) }
    }

    private func onDebug(_ type: curl_infotype, _ data: UnsafeRawBufferPointer) {
        switch type {
        case CURLINFO_HEADER_OUT:
            response.requestHead = Array(data)
        case CURLINFO_TEXT:
            let line = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !line.isEmpty { response.log.append(line) }
        default:
            break
        }
    }

    private func onHeader(_ data: UnsafeRawBufferPointer) -> Int {
        // A new status line (after 1xx or a proxy CONNECT) starts the head again.
        if data.starts(with: Array("HTTP/".utf8)) { response.head = [] }
        response.head.append(contentsOf: data)
        return data.count
    }

    /// Run the prepared transfer to its end on this thread.
    func perform() -> HTTPResponse {
        finish(curl_easy_perform(handle))
    }

    /// The prepared transfer was cut short by its driver (a stop signal): as if it had timed out.
    func finishCut() -> HTTPResponse { finish(CURLE_OPERATION_TIMEDOUT) }

    /// Collect what libcurl knows once the transfer is over, and let go of the sink.
    func finish(_ code: CURLcode) -> HTTPResponse {
        defer {
            sink = nil
            if upload >= 0 { close(upload); upload = -1 }
        }
        var r = response
        r.curlCode = Int(code.rawValue)
        r.finished = UTCTime.now()
        r.status = long(CURLINFO_RESPONSE_CODE)
        let v = long(CURLINFO_HTTP_VERSION)
        r.httpVersion = v == Int(CURL_HTTP_VERSION_1_0) ? "HTTP/1.0" : v == Int(CURL_HTTP_VERSION_1_1) ? "HTTP/1.1" : v == 0 ? "" : "HTTP/2+"
        r.contentType = string(CURLINFO_CONTENT_TYPE)
        r.primaryIP = string(CURLINFO_PRIMARY_IP)
        r.localIP = string(CURLINFO_LOCAL_IP)
        r.primaryPort = long(CURLINFO_PRIMARY_PORT)
        r.localPort = long(CURLINFO_LOCAL_PORT)
        for (name, info) in [("dns", CURLINFO_NAMELOOKUP_TIME_T), ("connect", CURLINFO_CONNECT_TIME_T),
                             ("tls", CURLINFO_APPCONNECT_TIME_T), ("first_byte", CURLINFO_STARTTRANSFER_TIME_T),
                             ("total", CURLINFO_TOTAL_TIME_T)] {
            var t: curl_off_t = 0
            sx_curl_getinfo_off_t(handle, info, &t)
            r.timings[name] = Int64(t)
        }
        if r.url.lowercased().hasPrefix("https:") {
            let result = long(CURLINFO_SSL_VERIFYRESULT)
            var tls = HTTPResponse.TLSInfo(verifyResult: result, verified: request.tls.verifies && (code == CURLE_OK || result == 0))
            // "SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384"
            if let line = r.log.last(where: { $0.hasPrefix("SSL connection using ") }) {
                let parts = line.dropFirst("SSL connection using ".count).components(separatedBy: " / ")
                tls.version = parts.first
                if parts.count > 1 { tls.cipher = parts[1] }
            }
            if request.record { tls.certificates = certificateChain() }
            r.tls = tls
        }
        if code != CURLE_OK {
            let detail = String(cString: errorBuffer)
            r.error = uploadFailed?.en ?? (detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
            switch code {
            case CURLE_OPERATION_TIMEDOUT, CURLE_ABORTED_BY_CALLBACK: r.failure = .timedOut
            case CURLE_WRITE_ERROR: r.failure = .stoppedBySink
            case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR: r.failure = r.head.isEmpty ? .other : .brokenOff
            // 51 is what libcurl before 7.62 called a failed peer verification.
            case CURLE_PEER_FAILED_VERIFICATION, CURLcode(rawValue: 51): r.failure = .tlsVerification
            default: r.failure = .other
            }
        }
        return r
    }

    private func long(_ info: CURLINFO) -> Int {
        var v = 0
        sx_curl_getinfo_long(handle, info, &v)
        return v
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
