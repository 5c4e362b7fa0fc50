import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The recording proxy of a browser capture (sxevidence-capture(5), BROWSER CAPTURE): an HTTP
/// proxy on 127.0.0.1 with a random port that the capture's Chromium uses for every request.
/// Each request goes upstream through the one libcurl client (HTTP/1.1, no decoding, recorded in
/// full); the response is written to a temporary file exactly as received and forwarded to the
/// browser while it streams, so memory stays bounded whatever the size. HTTPS is intercepted
/// with the capture's own `InterceptionCA`. One thread per browser connection (Chromium opens at
/// most a few dozen through a proxy; `Limits.maxConnections` caps it).
public final class RecordingProxy: @unchecked Sendable {
    public struct Limits: Sendable {
        public var maxConnections = 256
        public var maxRequestHead = 64 << 10
        /// Request bodies (form posts, XHR) are held in memory up to this size; larger is refused (413).
        public var maxRequestBody = 32 << 20
        /// A browser connection with no request for this long is closed.
        public var idleSeconds = 60
        public init() {}
    }

    /// TLS facts of one upstream connection (libcurl reports the chain only when it connects,
    /// not when it reuses the connection), by local address and port of that connection.
    struct UpstreamTLS {
        var certificates: [String]
        var version: String?
        var cipher: String?
    }

    public let port: Int
    let options: FetchOptions
    let tmpDir: String
    let ca: InterceptionCA
    let limits: Limits
    let cancel = TransferCancel()

    private let lock = NSLock()
    private let listenFD: Int32
    private var exchanges: [HTTPExchange] = []
    private var events: [CanonicalValue] = []
    private var shownLeaves: [String: String] = [:]
    private var upstreamTLS: [String: UpstreamTLS] = [:]
    private var sockets: Set<Int32> = []
    private var inFlight = 0
    private var lastChange = Date()
    private var connectionsSeen = 0
    private var stopping = false
    private var acceptDone = false
    private var nextBodyID = 0

    /// Start listening on 127.0.0.1 (a port the kernel picks) and accepting on a thread of its own.
    public init(options: FetchOptions, tmpDir: String, ca: InterceptionCA, limits: Limits = Limits()) throws {
        self.options = options
        self.tmpDir = tmpDir
        self.ca = ca
        self.limits = limits
        signal(SIGPIPE, SIG_IGN)   // a browser that closes mid-response must not end the process
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Self.socketError("socket") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && listen(fd, 128) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else {
            let e = Self.socketError("bind 127.0.0.1")
            close(fd)
            throw e
        }
        listenFD = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        let t = Thread { self.acceptLoop() }
        t.name = "sxevidence proxy accept"
        t.start()
    }

    static func socketError(_ what: String) -> EvidenceError {
        let m = POSIXFile.errnoText()
        return .ioError(zh: "录制代理无法监听（\(what)）：\(m)", en: "the recording proxy cannot listen (\(what)): \(m)")
    }

    private func acceptLoop() {
        defer { lock.withLock { acceptDone = true } }
        while true {
            var pfd = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            let n = poll(&pfd, 1, 200)
            if lock.withLock({ stopping }) { return }
            guard n > 0 else { continue }
            let c = accept(listenFD, nil, nil)
            guard c >= 0 else { continue }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)   // never inherited by the browser or ffmpeg
            var one: Int32 = 1
            setsockopt(c, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let admitted: Bool = lock.withLock {
                connectionsSeen += 1
                guard !stopping, sockets.count < limits.maxConnections else { return false }
                sockets.insert(c)
                return true
            }
            guard admitted else {
                event(["kind": .string("connection-refused"), "reason": .string("more than \(limits.maxConnections) browser connections at once")])
                close(c)
                continue
            }
            let t = Thread {
                ProxyConnection(proxy: self, fd: c).run()
                self.lock.withLock { _ = self.sockets.remove(c) }
                close(c)
            }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    // MARK: what the connections report

    func requestStarted() {
        lock.withLock {
            inFlight += 1
            lastChange = Date()
        }
    }

    func requestFinished(_ ex: HTTPExchange?) {
        lock.withLock {
            inFlight -= 1
            lastChange = Date()
            if let ex { exchanges.append(ex) }
        }
    }

    func event(_ fields: [String: CanonicalValue]) {
        var f = fields
        f["time"] = .string(UTCTime.now())
        lock.withLock { events.append(.object(f)) }
    }

    func leafShown(host: String, pem: String) {
        lock.withLock { shownLeaves[host] = pem }
    }

    func newBodyID() -> Int {
        lock.withLock {
            nextBodyID += 1
            return nextBodyID
        }
    }

    var isStopping: Bool { lock.withLock { stopping } }

    /// Fill in the TLS facts of an exchange on a reused upstream connection, or remember them
    /// when the exchange made the connection.
    func upstreamTLS(for ex: inout HTTPExchange) {
        guard ex.url.lowercased().hasPrefix("https:"), !ex.localIP.isEmpty else { return }
        let key = "\(ex.localIP):\(ex.localPort)"
        lock.withLock {
            if !ex.certificates.isEmpty {
                upstreamTLS[key] = UpstreamTLS(certificates: ex.certificates, version: ex.tlsVersion, cipher: ex.tlsCipher)
            } else if let known = upstreamTLS[key] {
                ex.certificates = known.certificates
                ex.tlsVersion = ex.tlsVersion ?? known.version
                ex.tlsCipher = ex.tlsCipher ?? known.cipher
                ex.log.append("sxevidence: connection \(key) reused; its certificate chain and TLS version are those recorded when it was made")
            }
        }
    }

    // MARK: for the capture

    /// Requests in flight now, and for how long nothing has started or finished.
    public var activity: (inFlight: Int, quietSeconds: Double) {
        lock.withLock { (inFlight, Date().timeIntervalSince(lastChange)) }
    }

    /// Everything answered so far, in the order the answers finished.
    public var recorded: [HTTPExchange] { lock.withLock { exchanges } }

    /// Stop: no new connection; transfers in flight are cut (recorded as truncated by time);
    /// every browser connection is closed. Returns what was recorded, the proxy's own events,
    /// the leaf certificates the browser was shown, and browser connections seen.
    public func stop(waitSeconds: Double = 10) -> (exchanges: [HTTPExchange], events: [CanonicalValue], leaves: [String: String], connections: Int) {
        let open: Set<Int32> = lock.withLock {
            stopping = true
            return sockets
        }
        cancel()
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        let deadline = Date().addingTimeInterval(waitSeconds)
        while Date() < deadline && lock.withLock({ !sockets.isEmpty || !acceptDone }) { usleep(20_000) }
        close(listenFD)
        return lock.withLock { (exchanges, events, shownLeaves, connectionsSeen) }
    }
}
