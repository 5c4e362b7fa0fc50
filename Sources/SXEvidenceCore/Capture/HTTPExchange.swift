import Foundation

/// One HTTP request/response as it crossed the wire (one hop of a redirect chain), with provenance.
public struct HTTPExchange: Sendable {
    public var url: String
    public var requestHead: [UInt8] = []        // request line and headers, as sent
    public var responseHead: [UInt8] = []       // status line and headers, as received
    public var bodyPath: String?                // raw body (transfer and content encodings intact)
    public var bodySize: Int64 = 0
    public var bodySHA256: [UInt8] = []         // of the raw body: WARC-Payload-Digest (see sxevidence-capture(5))
    public var bodySM3: [UInt8] = []
    public var blockSHA256: [UInt8] = []        // of responseHead + raw body: WARC-Block-Digest
    public var status: Int = 0
    public var httpVersion: String = ""
    public var primaryIP: String = ""
    public var primaryPort: Int = 0
    public var localIP: String = ""
    public var localPort: Int = 0
    public var timings: [String: Int64] = [:]   // microseconds: dns, connect, tls, first_byte, total
    public var tlsVersion: String?
    public var tlsCipher: String?
    public var certificates: [String] = []      // PEM, server first
    public var tlsVerified: Bool?               // nil for plain HTTP
    public var curlCode: Int = 0
    public var error: String?                   // libcurl's message when the transfer failed
    public var truncated: String?               // WARC-Truncated reason: length, time, disconnect
    public var log: [String] = []               // libcurl's informational lines for this hop
    /// Browser capture: what the recording proxy did on the browser's side that differs from
    /// forwarding the response as received (an answer of its own, a connection it cut).
    public var proxyNote: String?
    public var started: String = ""
    public var finished: String = ""

    public var location: String? { header("location") }

    /// First value of a response header (case-insensitive), from the received head.
    public func header(_ name: String) -> String? {
        let text = String(decoding: responseHead, as: UTF8.self)
        for line in text.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == name.lowercased() {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    public var isRedirect: Bool { [301, 302, 303, 307, 308].contains(status) && location != nil }
}

extension HTTPExchange {
    /// The exchange as recorded in evidence: the response of one hop and the body it streamed.
    init(_ r: HTTPResponse, body: CaptureBody) {
        url = r.url
        requestHead = r.requestHead
        responseHead = r.head
        let digests = body.finish(head: r.head)
        bodyPath = body.path
        bodySize = body.size
        bodySHA256 = digests.sha256
        bodySM3 = digests.sm3
        blockSHA256 = digests.block
        status = r.status
        httpVersion = r.httpVersion
        primaryIP = r.primaryIP
        primaryPort = r.primaryPort
        localIP = r.localIP
        localPort = r.localPort
        timings = r.timings
        tlsVersion = r.tls?.version
        tlsCipher = r.tls?.cipher
        certificates = r.tls?.certificates ?? []
        tlsVerified = r.tls?.verified
        curlCode = r.curlCode
        log = r.log
        started = r.started
        finished = r.finished
        if body.cutAtLimit { truncated = "length" }
        switch r.failure {
        case nil:
            break
        case .stoppedBySink? where body.cutAtLimit:
            break   // our own stop at --max-size
        case .timedOut? where !responseHead.isEmpty:
            truncated = "time"
            error = r.error
        case .brokenOff?:
            truncated = "disconnect"
            error = r.error
        default:
            error = r.error
        }
    }
}
