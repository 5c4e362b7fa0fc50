import ArgumentParser
import Foundation
import SXEvidenceCore

struct ConsortiumAlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List alerts (forks with their proofs); acknowledge one once dealt with. Exit 1 while any is unacknowledged. 列出并确认告警。")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Write each proof to DIR/alert-ID-NODE.json for a third party. 导出证明。") var export: String?
    @Option(help: "Acknowledge alert ID (it stays on record). 确认告警。") var ack: Int64?
    @Option(help: "With --ack: what was done. 处理说明。") var note: String?

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            if note != nil && ack == nil { throw usageError("--note 只与 --ack 一起使用", "--note goes with --ack") }
            if let ack {
                guard let note, !note.isEmpty else { throw usageError("--ack 需要 --note 说明处理情况", "--ack needs --note saying what was done") }
                try home.ledger.acknowledgeAlert(ack, note: note)
            }
            let alerts = try home.ledger.alerts()
            let open = alerts.filter { $0.acknowledged == nil }
            var files: [String] = []
            if let export {
                try POSIXFile.mkdirs(export)
                for a in alerts {
                    guard let p = a.proof else { continue }
                    let f = "\(export)/alert-\(a.id)-\(a.node).json"
                    try POSIXFile.writeAtomically(f, Array(p.utf8))
                    files.append(f)
                }
            }
            if c.json {
                c.emit(AlertsJSON(count: alerts.count, open: open.count, files: files, alerts: alerts.map {
                    .init(id: $0.id, node: $0.node, kind: "\($0.kind)", detail: $0.detail, created: $0.created, proof: OrNull($0.proof),
                          acknowledged: OrNull($0.acknowledged))
                }))
            } else if alerts.isEmpty {
                c.say("没有告警", "no alerts")
            } else {
                for a in alerts {
                    if let n = a.acknowledged {
                        c.out("✓ #\(a.id) \(a.created) \(a.node) \(a.kind): \(a.detail) — \(c.t("已确认", "acknowledged")): \(n)")
                    } else {
                        c.out("✗ #\(a.id) \(a.created) \(a.node) \(a.kind): \(a.detail)")
                    }
                }
                for f in files { c.out("  " + f) }
            }
            if !open.isEmpty { throw ExitCode(EvidenceError.Code.verification.exitStatus) }
        }
    }
}

extension ConsortiumAlertsCommand {
    struct AlertJSON: Encodable {
        let id: Int64, node: String, kind: String, detail: String, created: String
        let proof: OrNull<String>, acknowledged: OrNull<String>
    }
    struct AlertsJSON: Encodable { let count: Int, open: Int, files: [String], alerts: [AlertJSON] }
}
