import Foundation
import SXEvidenceCore

/// After a command has appended and reported its evidence: a token for the latest checkpoint from each
/// configured TSA. A TSA that cannot be reached leaves the stamp pending; it never fails the command.
func stampLatestCheckpoint(_ c: Console, _ home: NodeHome) {
    let service = TimestampService(home: home)
    guard !service.configured.isEmpty, let cp = try? home.ledger.checkpoint() else { return }
    for o in service.stamp(subject: "checkpoint:\(cp.size)", data: Array(cp.note.utf8)) {
        if o.granted {
            if let w = o.warning { c.warn("⚠ 时间戳：\(w)", "⚠ timestamp: \(w)") }
        } else {
            c.warn("⚠ 检查点 \(cp.size) 的时间戳（\(o.algorithm)）暂未取得，已记为待定（sxevidence timestamp --pending 补申请）：\(o.error ?? "")",
                   "⚠ timestamp (\(o.algorithm)) for checkpoint \(cp.size) is pending (retry with sxevidence timestamp --pending): \(o.error ?? "")")
        }
    }
}
