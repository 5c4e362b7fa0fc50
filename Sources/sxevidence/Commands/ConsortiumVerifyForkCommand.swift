import ArgumentParser
import SXEvidenceCore

struct ConsortiumVerifyForkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-fork",
        abstract: "Check a fork proof: two checkpoints signed by one member that no append-only log can both have. 核验分叉证明。",
        discussion: "Exit 0 when the proof holds (the member forked), 1 when it does not.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Fork proof file (sxevidence-fork/1). 分叉证明文件。") var file: String
    @Option(help: "Signed policy to take the member's keys from (default: the node's). 策略文件。") var policy: String?

    func run() throws {
        let c = global.console()
        try c.run {
            let proof = try ForkProof.parse(try POSIXFile.readAll(file))
            let p: ConsortiumPolicy
            if let policy { p = try ConsortiumPolicy.verify(try POSIXFile.readText(policy)).0 } else {
                p = try NodeHome.open(global.homePath).requirePolicy()
            }
            guard let m = p.member(proof.node), m.origin == proof.origin else {
                throw EvidenceError(.notFound, zh: "策略中没有节点 \(proof.node)", en: "the policy has no node \(proof.node)")
            }
            let (a, b) = try proof.verify(keys: try m.noteVerifiers())
            if c.json {
                c.emit(["ok": true, "node": m.nodeID, "origin": m.origin, "size1": a, "size2": b])
            } else {
                c.say("分叉证明成立：节点 \(m.nodeID) 签署了互不一致的检查点（\(a) 与 \(b)）",
                      "fork proof holds: node \(m.nodeID) signed inconsistent checkpoints (sizes \(a) and \(b))")
            }
        }
    }
}
