/// What came back for one `HTTPRequest` (one hop), with what libcurl knows about the transfer.
public struct HTTPResponse: Sendable {
    /// Why a transfer did not complete.
    public enum Failure: Sendable, Equatable {
        case timedOut
        /// The body sink refused more (a size limit, a full disk: see the sink's `failure`).
        case stoppedBySink
        /// The peer broke off after the response had started (a partial body or a receive error).
        case brokenOff
        /// The peer's certificate did not verify.
        case tlsVerification
        /// Anything else: no connection, a name that does not resolve, a protocol error.
        case other
    }

    /// TLS facts of an https exchange.
    public struct TLSInfo: Sendable {
        /// CURLINFO_SSL_VERIFYRESULT: 0 when the chain verified (X509_V_OK), else OpenSSL's code.
        public var verifyResult: Int
        /// The request asked for verification and it held.
        public var verified: Bool
        /// With `record`: from libcurl's "SSL connection using" line.
        public var version: String?
        public var cipher: String?
        /// With `record`: PEM, server first.
        public var certificates: [String] = []
    }

    public var url: String
    public var status = 0
    /// "HTTP/1.0", "HTTP/1.1", "HTTP/2+", or "" when nothing was received.
    public var httpVersion = ""
    /// Status line and header fields of the final response (after any 1xx), exactly as received.
    public var head: [UInt8] = []
    /// With `record`: request line and header fields as sent.
    public var requestHead: [UInt8] = []
    /// With `record`: libcurl's informational lines.
    public var log: [String] = []
    public var contentType = ""
    public var primaryIP = ""
    public var primaryPort = 0
    public var localIP = ""
    public var localPort = 0
    /// Microseconds from the start: dns, connect, tls, first_byte, total.
    public var timings: [String: Int64] = [:]
    /// nil for plain HTTP.
    public var tls: TLSInfo?
    /// libcurl's result code (0: the transfer completed).
    public var curlCode = 0
    /// libcurl's message when the transfer did not complete.
    public var error: String?
    public var failure: Failure?
    public var started = ""
    public var finished = ""
    /// The body, when it was received into memory (`HTTPClient.send(_:limit:)`); otherwise empty.
    public var body: [UInt8] = []

    public var text: String { String(decoding: body, as: UTF8.self) }
}
