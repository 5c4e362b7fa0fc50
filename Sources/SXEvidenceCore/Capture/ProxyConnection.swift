import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The browser's side of one proxy connection: the plain socket, or the TLS session the proxy
/// terminates inside a CONNECT tunnel.
protocol BrowserStream: AnyObject {
    /// Bytes read (0: the browser closed, -1: an error or the idle timeout).
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int
    func writeAll(_ bytes: UnsafeRawBufferPointer) -> Bool
}

final class SocketStream: BrowserStream {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    func writeAll(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = send(fd, bytes.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            off += n
        }
        return true
    }
}

extension TLSServerConnection: BrowserStream {}

extension BrowserStream {
    func write(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { writeAll($0) } }
}

/// Streams an upstream body into the capture's temporary file (through `CaptureBody`, which
/// hashes and cuts at --max-size) and forwards exactly the accepted bytes to the browser. The
/// response head goes to the browser before the first body byte.
final class ForwardingSink: HTTPBodySink {
    let body: CaptureBody
    let stream: BrowserStream
    private(set) var headSent = false
    private(set) var browserGone = false
    var failure: EvidenceError? { body.failure }

    init(body: CaptureBody, stream: BrowserStream) {
        self.body = body
        self.stream = stream
    }

    func sendHead(_ head: [UInt8]) {
        guard !headSent else { return }
        headSent = true
        if !stream.write(head) { browserGone = true }
    }

    func receive(_ chunk: UnsafeRawBufferPointer, head: [UInt8]) -> Bool {
        sendHead(head)
        let before = body.size
        let more = body.receive(chunk, head: head)
        let accepted = Int(body.size - before)
        if !browserGone && accepted > 0 && !stream.writeAll(UnsafeRawBufferPointer(rebasing: chunk[0..<accepted])) {
            browserGone = true
        }
        return more && !browserGone   // nobody is left to show the rest to
    }
}

/// One browser connection to the recording proxy, served on its own thread until the browser
/// closes it, a response cannot be framed for reuse, or the proxy stops.
final class ProxyConnection {
    let proxy: RecordingProxy
    let fd: Int32
    private var stream: BrowserStream
    private var pending: [UInt8] = []
    /// The one buffer reads from the browser go through.
    private var buf = [UInt8](repeating: 0, count: 64 << 10)
    private var client: HTTPClient?
    /// Inside a CONNECT tunnel: the origin requests are relative to ("https://host:port").
    private var origin: String?
    private var verifyUpstream = true

    init(proxy: RecordingProxy, fd: Int32) {
        self.proxy = proxy
        self.fd = fd
        stream = SocketStream(fd: fd)
        var tv = timeval(tv_sec: proxy.limits.idleSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func run() {
        while !proxy.isStopping {
            guard let head = readHead() else { return }
            do {
                guard try handle(try ProxyRequest.parse(head)) else { return }
            } catch {
                answer(error.status, error.reason, url: nil, kind: "request-refused")
                return
            }
        }
    }

    private func upstream() throws -> HTTPClient {
        if let client { return client }
        let c = try HTTPClient()
        client = c
        return c
    }

    // MARK: reading from the browser

    /// The next request head (through the empty line), or nil when the browser closed or idled out.
    private func readHead() -> [UInt8]? {
        var searched = 0
        while true {
            if let end = Self.headEnd(pending, from: max(0, searched - 3)) {
                let head = Array(pending[..<end])
                pending.removeFirst(end)
                return head
            }
            searched = pending.count
            if pending.count > proxy.limits.maxRequestHead {
                answer(431, "request head over \(proxy.limits.maxRequestHead) bytes", url: nil, kind: "request-refused")
                return nil
            }
            let n = buf.withUnsafeMutableBytes { stream.read(into: $0) }
            guard n > 0 else { return nil }
            pending += buf[0..<n]
        }
    }

    static func headEnd(_ b: [UInt8], from: Int) -> Int? {
        guard b.count >= 4 else { return nil }
        var i = from
        while i + 3 < b.count {
            if b[i] == 0x0D && b[i + 1] == 0x0A && b[i + 2] == 0x0D && b[i + 3] == 0x0A { return i + 4 }
            i += 1
        }
        return nil
    }

    private func readBody(_ n: Int) -> [UInt8]? {
        while pending.count < n {
            let got = buf.withUnsafeMutableBytes { stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<min($0.count, n - pending.count)])) }
            guard got > 0 else { return nil }
            pending += buf[0..<got]
        }
        let body = Array(pending[..<n])
        pending.removeFirst(n)
        return body
    }

    // MARK: one request

    /// Serve one request; false: close the connection.
    private func handle(_ req: ProxyRequest) throws(ProxyRequest.Refusal) -> Bool {
        if req.method == "CONNECT" {
            guard origin == nil else { throw .init(status: 400, reason: "CONNECT inside a tunnel") }
            guard let (host, port) = ProxyRequest.authority(req.target) else { throw .init(status: 400, reason: "malformed CONNECT target") }
            return openTunnel(host: host, port: port)
        }
        let url: String
        if let origin {
            guard req.target.hasPrefix("/") else { throw .init(status: 400, reason: "request target inside a tunnel must be a path") }
            url = origin + req.target
        } else {
            guard req.target.lowercased().hasPrefix("http://"), let u = URL(string: req.target), u.host != nil else {
                throw .init(status: 400, reason: "not a proxy request (absolute http:// URL expected)")
            }
            url = req.target
        }
        if let upgrade = req.header("upgrade") {
            // WebSocket (and any other upgrade) is refused, and the refusal recorded: never passed unrecorded.
            answer(501, "protocol upgrade to \(upgrade) is not recorded by sxevidence and was refused", url: url, kind: "upgrade-refused")
            return false
        }
        guard let method = HTTPMethod(rawValue: req.method) else {
            throw .init(status: 501, reason: "method \(req.method) not supported")
        }
        var body: [UInt8]?
        if let n = try req.bodyLength(limit: proxy.limits.maxRequestBody), n > 0 || method == .post || method == .put || method == .patch {
            guard let b = readBody(n) else { return false }
            body = b
        }
        return forward(req, url: url, method: method, body: body)
    }

    private func tls() -> TLSOptions {
        var t = proxy.options.tls
        t.verifyPeer = verifyUpstream
        t.verifyHost = verifyUpstream
        return t
    }

    private func forward(_ req: ProxyRequest, url: String, method: HTTPMethod, body: [UInt8]?) -> Bool {
        proxy.requestStarted()
        var r = HTTPRequest(method, url, headers: req.upstreamHeaders(hasBody: body != nil),
                            body: body.map { .bytes($0) } ?? .none, tls: tls())
        r.asReceived = true
        r.record = true
        r.connectTimeoutMs = proxy.options.connectTimeoutMs
        r.totalTimeoutMs = proxy.options.totalTimeoutMs
        r.cancel = proxy.cancel
        let capture = CaptureBody(tmpDir: proxy.tmpDir, id: proxy.newBodyID(), maxSize: proxy.options.maxSize)
        let sink = ForwardingSink(body: capture, stream: stream)
        let response: HTTPResponse
        do {
            response = try upstream().send(r, to: sink)
        } catch {
            proxy.requestFinished(nil)
            answer(502, "the capture could not store the response: \(EvidenceError.wrap(error).en)", url: url, kind: "store-failed")
            return false
        }
        var ex = HTTPExchange(response, body: capture)
        proxy.upstreamTLS(for: &ex)
        var keep = false
        if ex.responseHead.isEmpty {
            let reason = "upstream failed: \(ex.error ?? "no response")"
            ex.proxyNote = "no response from upstream; the proxy answered the browser 502 (\(reason))"
            sendAnswer(502, reason)
        } else {
            sink.sendHead(ex.responseHead)
            if sink.browserGone && ex.truncated == nil {
                ex.truncated = "unspecified"
                ex.proxyNote = "the browser closed the connection; the transfer was stopped there"
            } else if ex.truncated != nil {
                ex.proxyNote = "the response was cut (\(ex.truncated!)); the proxy closed the browser's connection there"
            } else {
                keep = ex.error == nil && Self.reusable(req, ex)
            }
        }
        proxy.requestFinished(ex)
        return keep
    }

    /// Whether the browser connection can carry the next request: HTTP/1.1, nobody asked to
    /// close, and the response's end is known from its framing.
    static func reusable(_ req: ProxyRequest, _ ex: HTTPExchange) -> Bool {
        guard ex.httpVersion == "HTTP/1.1" else { return false }
        let closes = { (v: String?) in v?.lowercased().split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "close" } ?? false }
        if closes(req.header("connection")) || closes(ex.header("connection")) { return false }
        if req.method == "HEAD" || ex.status == 204 || ex.status == 304 || (100..<200).contains(ex.status) { return true }
        if ex.header("transfer-encoding")?.lowercased().contains("chunked") == true { return true }
        return ex.header("content-length") != nil
    }

    // MARK: CONNECT

    /// Open a tunnel. Port 80 carries plain HTTP (a ws:// WebSocket, an http:// page through a
    /// tunnel). Any other port is TLS: the upstream is connected and verified first (a handshake,
    /// no request), and only then is the browser told 200 and its handshake completed with a
    /// leaf of the capture's CA; a failed upstream is answered 502 and recorded.
    private func openTunnel(host: String, port: Int) -> Bool {
        let authority = host + (port == 443 || port == 80 ? "" : ":\(port)")
        if port == 80 {
            guard stream.write(Array("HTTP/1.1 200 Connection Established\r\n\r\n".utf8)) else { return false }
            origin = "http://\(authority)"
            proxy.event(["kind": .string("tunnel"), "host": .string(host), "port": .int(Int64(port)), "tls": .bool(false)])
            return true
        }
        var probe = probeUpstream("https://\(authority)/", verify: true)
        var fields: [String: CanonicalValue] = ["kind": .string("tunnel"), "host": .string(host), "port": .int(Int64(port)), "tls": .bool(true)]
        if probe.failure == .tlsVerification && proxy.options.allowInvalidTLS {
            fields["upstream_verification_failed"] = .string(probe.error ?? "")
            verifyUpstream = false
            probe = probeUpstream("https://\(authority)/", verify: false)
        }
        fields["upstream_ip"] = .string(probe.primaryIP)
        fields["upstream_verified"] = .bool(verifyUpstream && probe.curlCode == 0)
        if let t = probe.tls {
            fields["upstream_tls_version"] = .optional(t.version)
            fields["upstream_certificate_chain_pem"] = .strings(t.certificates)
        }
        fields["upstream_log"] = .strings(probe.log)
        guard probe.curlCode == 0 else {
            fields["kind"] = .string("tunnel-refused")
            fields["error"] = .string(probe.error ?? "")
            proxy.event(fields)
            sendAnswer(502, "upstream \(authority) failed: \(probe.error ?? "")")
            return false
        }
        let leaf: String
        do {
            leaf = try proxy.ca.leafCertificate(host: host).pem
        } catch {
            fields["kind"] = .string("tunnel-refused")
            fields["error"] = .string(EvidenceError.wrap(error).en)
            proxy.event(fields)
            sendAnswer(502, "no certificate can be made for \(host)")
            return false
        }
        guard stream.write(Array("HTTP/1.1 200 Connection Established\r\n\r\n".utf8)) else { return false }
        do {
            let session = try TLSServerConnection(fd: fd, ca: proxy.ca, host: host)
            proxy.leafShown(host: host, pem: leaf)
            fields["browser_tls_version"] = .string(session.version)
            stream = session
        } catch {
            fields["kind"] = .string("tunnel-failed")
            fields["error"] = .string("the browser's TLS handshake failed: \(EvidenceError.wrap(error).en)")
            proxy.event(fields)
            return false
        }
        proxy.event(fields)
        origin = "https://\(authority)"
        return true
    }

    private func probeUpstream(_ url: String, verify: Bool) -> HTTPResponse {
        var t = proxy.options.tls
        t.verifyPeer = verify
        t.verifyHost = verify
        var r = HTTPRequest(.get, url, tls: t)
        r.connectOnly = true
        r.record = true
        r.connectTimeoutMs = proxy.options.connectTimeoutMs
        r.totalTimeoutMs = proxy.options.connectTimeoutMs + 1000
        r.cancel = proxy.cancel
        do {
            // Its own handle: a connect-only connection is not one libcurl reuses for requests.
            return try HTTPClient().send(r, limit: 0)
        } catch {
            var failed = HTTPResponse(url: url)
            failed.curlCode = -1
            failed.error = EvidenceError.wrap(error).en
            failed.failure = .other
            return failed
        }
    }

    // MARK: answers of the proxy's own

    private func sendAnswer(_ status: Int, _ reason: String) {
        let body = Array("sxevidence recording proxy: \(reason)\n".utf8)
        let phrase = [400: "Bad Request", 411: "Length Required", 413: "Content Too Large", 431: "Request Header Fields Too Large",
                      501: "Not Implemented", 502: "Bad Gateway"][status] ?? "Error"
        let head = "HTTP/1.1 \(status) \(phrase)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        _ = stream.write(Array(head.utf8) + body)
    }

    /// Answer the browser ourselves (nothing went upstream) and record that in the proxy's events.
    private func answer(_ status: Int, _ reason: String, url: String?, kind: String) {
        sendAnswer(status, reason)
        var f: [String: CanonicalValue] = ["kind": .string(kind), "status": .int(Int64(status)), "reason": .string(reason)]
        if let url { f["url"] = .string(url) }
        proxy.event(f)
    }
}
