import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Obtains, verifies and records RFC 3161 tokens (sxevidence-timestamp(5)). A TSA that cannot be
/// reached never blocks evidence: the attempt is recorded as "pending" and retried by
/// `sxevidence timestamp --pending`. Rows are append-only; the latest row of a subject and TSA counts.
public struct TimestampService {
    public let home: NodeHome

    public struct Outcome: Sendable {
        public var subject: String
        public var tsa: String
        public var algorithm: String
        public var granted: Bool
        public var info: TimeStamp.Info?
        public var tokenSHA256: String?
        public var offsetMs: Int64?
        public var warning: String?
        public var error: String?
    }

    public init(home: NodeHome) { self.home = home }

    public var configured: [NodeConfig.TSAEntry] { home.config.tsa ?? [] }

    /// Subjects: `checkpoint:<size>` (digest = SHA-256/SM3 of the signed note), `file:<name>`, `manifest:<ID>`.
    public func stamp(subject: String, data: [UInt8], tsas: [NodeConfig.TSAEntry]? = nil) -> [Outcome] {
        var out: [Outcome] = []
        for t in tsas ?? configured {
            for alg in (t.sm3 == true ? [DigestAlgorithm.sha256, .sm3] : [.sha256]) {
                out.append(stampOne(subject: subject, digest: Hashing.digest(alg, data), algorithm: alg, tsa: t))
            }
        }
        return out
    }

    func stampOne(subject: String, digest: [UInt8], algorithm: DigestAlgorithm, tsa: NodeConfig.TSAEntry) -> Outcome {
        var o = Outcome(subject: subject, tsa: tsa.url, algorithm: algorithm.rawValue, granted: false)
        do {
            let caPath = tsa.ca.hasPrefix("/") ? tsa.ca : home.path + "/" + tsa.ca
            let trusted = try POSIXFile.readText(caPath)
            let req = try TimeStamp.makeRequest(digest: digest, algorithm: algorithm)
            let response = try Self.post(req.der, to: tsa.url)
            let asked = Date()
            let info = try TimeStamp.verify(response: response, digest: digest, algorithm: algorithm, request: req, trustedPEM: trusted)
            let tokenPath = "\(home.store.tmpDir)/\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tsr"
            try POSIXFile.writeAtomically(tokenPath, response, mode: 0o600)
            let a = try home.store.adopt(path: tokenPath, name: "timestamp.tsr")
            try home.store.sync()
            o.granted = true
            o.info = info
            o.tokenSHA256 = a.sha256
            if let gen = EnvironmentRecord.isoDate.date(from: info.genTime) ?? ISO8601DateFormatter().date(from: info.genTime) {
                o.offsetMs = Int64((asked.timeIntervalSince(gen) * 1000).rounded())
                let limit = Int64(home.config.timestampWarnSeconds ?? 60) * 1000
                if abs(o.offsetMs!) > limit {
                    o.warning = "local clock differs from the TSA's genTime by \(Double(o.offsetMs!) / 1000) s (limit \(limit / 1000) s)"
                }
            }
        } catch let e as EvidenceError {
            o.error = e.en
        } catch {
            o.error = "\(error)"
        }
        record(&o, digest: digest)
        return o
    }

    /// Ask again for every subject whose latest attempt is pending, with the digest recorded then.
    public func retryPending() throws -> [Outcome] {
        var out: [Outcome] = []
        for row in try home.ledger.latestTimestamps() where row.status == .pending {
            // A one-off TSA (--tsa) that node.json does not list has no trust root to retry with.
            guard let tsa = configured.first(where: { $0.url == row.tsaURL }) else { continue }
            let alg = DigestAlgorithm(rawValue: row.algorithm) ?? .sha256
            out.append(stampOne(subject: row.subject.rawValue, digest: row.digest, algorithm: alg, tsa: tsa))
        }
        return out
    }

    private func record(_ o: inout Outcome, digest: [UInt8]) {
        do {
            try home.ledger.recordTimestamp(subject: TimestampSubject(rawValue: o.subject), algorithm: o.algorithm, digest: digest, tsa: o.tsa,
                                         status: o.granted ? .granted : .pending, tokenSHA256: o.tokenSHA256,
                                         genTime: o.info?.genTime, serial: o.info?.serial, policy: o.info?.policy,
                                         offsetMs: o.offsetMs, error: o.error ?? o.warning)
        } catch let e as EvidenceError {
            // A token that could not be recorded was not obtained, as far as the ledger knows.
            o.granted = false
            o.error = "could not record the time stamp: \(e.en)"
        } catch {
            o.granted = false
            o.error = "could not record the time stamp: \(error)"
        }
    }

    /// The largest answer accepted from a TSA.
    public static let maxAnswer = 1 << 20

    /// A TimeStampReq as it is sent (sxevidence-timestamp(5), OBTAINING TOKENS): an HTTP/1.1 POST,
    /// 5 s to connect, 20 s in all, the server certificate verified against the system CA bundle.
    public static func request(_ der: [UInt8], to url: String) -> HTTPRequest {
        var r = HTTPRequest(.post, url, headers: ["Content-Type: application/timestamp-query", "Accept: */*"], body: .bytes(der))
        r.connectTimeoutMs = 5_000
        r.totalTimeoutMs = 20_000
        r.userAgent = "sxevidence/\(SXEvidence.version)"
        r.http11Only = true
        return r
    }

    /// POST a TimeStampReq with the HTTP client, from memory into memory, and return the body of a
    /// 200 answer.
    static func post(_ der: [UInt8], to url: String) throws -> [UInt8] {
        let r = try HTTPClient().send(request(der, to: url), limit: maxAnswer)
        if let e = r.error {
            throw EvidenceError.unavailable(zh: "无法连接时间戳服务 \(url)：\(e)", en: "cannot reach the TSA \(url): \(e)")
        }
        guard r.status == 200 else {
            throw EvidenceError.unavailable(zh: "时间戳服务返回 HTTP \(r.status)", en: "the TSA answered HTTP \(r.status)")
        }
        return r.body
    }
}
