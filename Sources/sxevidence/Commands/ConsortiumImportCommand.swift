import ArgumentParser
import SXEvidenceCore

struct ConsortiumImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Accept a signed policy from the city: valid city signatures, a higher version, the city key already trusted. 导入联盟策略。",
        discussion: "The first import needs --city-key: the city's Ed25519 verifier key, obtained separately (not from the file).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Signed policy file. 策略文件。") var file: String
    @Option(name: .customLong("city-key"), help: "City Ed25519 verifier key (first import only). 市级节点公钥。") var cityKey: String?

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            let text = try POSIXFile.readText(file)
            let p = try home.importPolicy(text, trustCity: try cityKey.map(parseEd25519VKey))
            if c.json { c.emit(PolicyJSON(p)) } else {
                c.say("已接受联盟策略版本 \(p.version)（\(p.members.count) 个成员）", "accepted policy version \(p.version) (\(p.members.count) members)")
            }
        }
    }
}
