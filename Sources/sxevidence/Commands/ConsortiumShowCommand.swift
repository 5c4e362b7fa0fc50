import ArgumentParser
import SXEvidenceCore

struct ConsortiumShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show the consortium policy this node holds (verified). 显示联盟策略。")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            let p = try home.requirePolicy()
            if c.json { c.emit(PolicyJSON(p)); return }
            c.say("联盟策略 版本 \(p.version)（\(p.created)），市级节点 \(p.city)，联署：\(p.cosigners.joined(separator: ","))",
                  "consortium policy version \(p.version) (\(p.created)), city \(p.city), cosigners: \(p.cosigners.joined(separator: ","))")
            for m in p.members {
                c.out("  \(m.nodeID)  \(m.role.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(m.name)  \(m.origin)  \(m.endpoint.isEmpty ? "-" : m.endpoint)")
                c.out("          ed25519 \(Base64.encode(m.ed25519))")
            }
        }
    }
}
