import ArgumentParser
import Foundation
import SXEvidenceCore

func report(_ c: Console, _ outcomes: [TimestampService.Outcome]) {
    if c.json {
        c.emit(outcomes.map(StampJSON.init))
        return
    }
    for o in outcomes {
        if o.granted, let i = o.info {
            c.out("✓ \(o.subject)  \(o.algorithm)  \(i.genTime)  serial \(i.serial)  \(o.tsa)")
            if let w = o.warning { c.warn("⚠ 本地时钟与时间戳服务相差过大：\(w)", "⚠ \(w)") }
        } else {
            c.out("… \(o.subject)  \(o.algorithm)  \(c.t("待定", "pending"))  \(o.tsa): \(o.error ?? "")")
        }
    }
}

/// One time-stamp outcome as `timestamp --json` prints it.
struct StampJSON: Encodable {
    let subject: String, tsa: String, algorithm: String, status: String
    let genTime: String?, serial: String?, policy: String?, tokenSHA256: String?, offsetMs: Int64?, warning: String?, error: String?
    enum CodingKeys: String, CodingKey {
        case subject, tsa, algorithm, status, genTime = "gen_time", serial, policy, tokenSHA256 = "token_sha256", offsetMs = "offset_ms", warning, error
    }
    init(_ o: TimestampService.Outcome) {
        subject = o.subject; tsa = o.tsa; algorithm = o.algorithm; status = o.granted ? "granted" : "pending"
        genTime = o.info?.genTime; serial = o.info?.serial; policy = o.info?.policy
        tokenSHA256 = o.tokenSHA256; offsetMs = o.offsetMs.map { Int64($0) }; warning = o.warning; error = o.error
    }
}
