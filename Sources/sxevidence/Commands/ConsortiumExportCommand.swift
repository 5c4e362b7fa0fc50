import ArgumentParser
import SXEvidenceCore

struct ConsortiumExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the signed policy (a C2SP signed note) for the members to import. 导出签名的联盟策略。")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Output file (default: stdout). 输出文件。") var out: String?

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            _ = try home.requirePolicy()
            let text = try POSIXFile.readText(home.policyPath)
            if let out { try POSIXFile.writeAtomically(out, Array(text.utf8)) } else { c.out(text, terminator: "") }
        }
    }
}
