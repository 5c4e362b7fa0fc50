import ArgumentParser
import SXEvidenceCore

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the versions of sxevidence and the C libraries it runs with. 版本信息。")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let c = global.console()
        var d = SXEvidence.libraryVersions
        d["sxevidence"] = SXEvidence.version
        if c.json {
            c.emit(d)
        } else {
            c.out("sxevidence \(SXEvidence.version)")
            for (k, v) in SXEvidence.libraryVersions.sorted(by: { $0.key < $1.key }) { c.out("\(k) \(v)") }
        }
    }
}
