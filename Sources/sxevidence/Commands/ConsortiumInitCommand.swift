import ArgumentParser
import SXEvidenceCore

struct ConsortiumInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Start a consortium policy on the city node (version 1, the city as its only member and cosigner). 创建联盟策略。")

    @OptionGroup var global: GlobalOptions
    @Option(help: "This node's server URL, e.g. http://127.0.0.1:8600. 本节点服务地址。") var endpoint: String

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            guard home.config.role == .city else { throw usageError("只有市级节点可以创建联盟策略", "only a city node creates a consortium policy") }
            if try home.policy() != nil { throw EvidenceError(.exists, zh: "本节点已有联盟策略", en: "this node already has a consortium policy") }
            _ = try NodeClient(base: endpoint, node: home.config.nodeID, peer: home.config.nodeID, key: nil)   // validates the form
            let keys = try home.loadKeys()
            let me = ConsortiumPolicy.Member(nodeID: home.config.nodeID, name: home.config.name, role: .city, origin: home.config.origin,
                                             ed25519: keys.ed25519.publicKey, sm2: keys.sm2.publicPoint, endpoint: endpoint)
            let p = ConsortiumPolicy(version: 1, city: home.config.nodeID, created: UTCTime.now(), members: [me], cosigners: [home.config.nodeID],
                                     tsaRoots: try home.tsaRootFingerprints())
            try home.importPolicy(try p.signed(with: keys).serialized)
            if c.json { c.emit(PolicyJSON(p)) } else {
                c.say("已创建联盟策略（版本 1），市级节点 \(me.nodeID)", "created consortium policy version 1 with city node \(me.nodeID)")
            }
        }
    }
}
