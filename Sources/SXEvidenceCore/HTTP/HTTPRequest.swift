import Foundation

/// One request to send with `HTTPClient` or `CurlMulti`. Redirects are never followed: a caller
/// that wants the next hop asks for it, so that every hop can be recorded.
public struct HTTPRequest: Sendable {
    /// What is sent as the body.
    public enum Body: Sendable {
        case none
        /// From memory (small documents: batches, RFC 3161 requests).
        case bytes([UInt8])
        /// Streamed from a file, never held in memory (object uploads).
        case file(path: String)
    }

    public var method: HTTPMethod
    public var url: String
    /// "Name: value" lines, sent in this order after libcurl's own; "Name:" removes one libcurl
    /// would add (such as "Expect:").
    public var headers: [String] = []
    public var body: Body = .none
    public var tls = TLSOptions()
    public var connectTimeoutMs = 15_000
    /// The whole exchange; 0: no limit (then `stallSeconds` should be set).
    public var totalTimeoutMs = 120_000
    /// End the transfer when less than one byte per second moved for this long.
    public var stallSeconds: Int?
    public var userAgent: String?
    /// A byte range ("start-end"); the answer is then 206.
    public var range: String?
    /// Evidence mode: HTTP/1.1 (what crossed the wire is a byte stream, unlike HTTP/2 frames) and
    /// no transfer or content decoding, so the body handed to the sink is the body as received.
    public var asReceived = false
    /// HTTP/1.1 even where libcurl would negotiate HTTP/2 (implied by `asReceived`).
    public var http11Only = false
    /// Keep the record of the exchange: the request head as sent, libcurl's informational lines,
    /// the TLS version and cipher, the server's certificate chain.
    public var record = false
    /// Only connect (TCP, and TLS for https) and return, sending no request: the recording proxy
    /// checks the upstream before it completes the browser's handshake. The response has no head;
    /// its TLS facts and certificate chain (with `record`) are those of the connection.
    public var connectOnly = false
    /// Set from another thread to end the transfer at the next progress tick (about once a
    /// second, or on every chunk): it then ends as timed out (`HTTPResponse.Failure.timedOut`).
    public var cancel: TransferCancel?

    public init(_ method: HTTPMethod, _ url: String, headers: [String] = [], body: Body = .none, tls: TLSOptions = TLSOptions()) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.tls = tls
    }
}

/// A flag another thread sets to end a transfer (the capture is over; the browser went away).
public final class TransferCancel: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false

    public init() {}

    public func callAsFunction() {
        lock.lock()
        set = true
        lock.unlock()
    }

    public var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return set
    }
}
