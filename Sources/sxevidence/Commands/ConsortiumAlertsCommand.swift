import ArgumentParser
import Foundation
import SXEvidenceCore

struct ConsortiumAlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List alerts (forks with their proofs). Exit 1 when there are any. 列出告警（分叉证明）。")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Write each proof to DIR/alert-ID-NODE.json for a third party. 导出证明。") var export: String?

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            let alerts = try home.ledger.alerts()
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
                c.emit(["count": alerts.count, "files": files, "alerts": alerts.map { a -> [String: Any] in
                    ["id": a.id, "node": a.node, "kind": a.kind, "detail": a.detail, "created": a.created, "proof": a.proof ?? NSNull()]
                }])
            } else if alerts.isEmpty {
                c.say("没有告警", "no alerts")
            } else {
                for a in alerts {
                    c.out("✗ #\(a.id) \(a.created) \(a.node) \(a.kind): \(a.detail)")
                }
                for f in files { c.out("  " + f) }
            }
            if !alerts.isEmpty { throw ExitCode(EvidenceError.Code.verification.exitStatus) }
        }
    }
}
