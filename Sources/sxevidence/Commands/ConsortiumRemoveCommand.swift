import ArgumentParser
import SXEvidenceCore

struct ConsortiumRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove a member; its requests are refused from then on (its replica is kept). 移除成员。")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Node ID of the member. 成员节点编号。") var node: String

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            let p = try publishPolicy(home) { p in
                guard p.member(node) != nil else { throw EvidenceError(.notFound, zh: "没有成员 \(node)", en: "no member \(node)") }
                guard node != p.city else { throw usageError("不能移除市级节点", "the city node cannot be removed") }
                p.members.removeAll { $0.nodeID == node }
                p.cosigners.removeAll { $0 == node }
            }
            if c.json { c.emit(PolicyJSON(p)) } else {
                c.say("已移除成员 \(node)，联盟策略版本 \(p.version)", "removed member \(node); policy version \(p.version)")
            }
        }
    }
}
