import ArgumentParser
import SXEvidenceCore

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List ledger entries. 列出账本条目。")

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("case"), help: "Only entries of this case. 仅显示该案件。")
    var caseID: String?

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            var rows: [EntryJSON] = []
            try home.ledger.entries(caseID: caseID) { e in
                if c.json {
                    rows.append(EntryJSON(e))
                } else {
                    let names = e.artifacts.map(\.name).joined(separator: ",")
                    c.out("\(e.evidenceID)  \(e.time)  \(e.kind)  \(e.caseID)  \(e.officer)  \(names)")
                }
            }
            if c.json { c.emit(rows) }
        }
    }
}
