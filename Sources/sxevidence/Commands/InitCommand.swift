import ArgumentParser
import SXEvidenceCore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a node home: ledger, object store, config, Ed25519 and SM2 keys. 初始化节点。")

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("node-id"), help: "Six-digit administrative division code, e.g. 330603. 节点编号。")
    var nodeID: String

    @Option(help: "Node name, e.g. 柯桥区市场监管局. 节点名称。")
    var name: String

    @Option(help: "city or county. 节点角色。")
    var role: String

    @Option(help: "Log origin / key name (default: sxevidence.shaoxing/NODE-ID).")
    var origin: String?

    @Option(help: "Use the private keys in this folder (ed25519.pem, sm2.pem: a key backup) instead of new ones. 使用备份密钥。")
    var keys: String?

    func run() throws {
        let c = global.console()
        try c.run {
            guard let r = NodeRole(rawValue: role) else {
                throw usageError("--role 须为 city 或 county：\(role)", "--role must be city or county: \(role)")
            }
            guard !name.isEmpty else { throw usageError("--name 不能为空", "--name must not be empty") }
            try NodeConfig.validateNodeID(nodeID)
            let cfg = NodeConfig(nodeID: nodeID, name: name, role: r,
                                 origin: origin ?? NodeConfig.defaultOrigin(nodeID: nodeID), created: UTCTime.now())
            let home = try NodeHome.create(at: global.homePath, config: cfg, keys: try keys.map(NodeHome.readKeys))
            let v = try home.verifiers()
            if c.json {
                c.emit(InitJSON(home: home.path, nodeID: cfg.nodeID, name: cfg.name, role: cfg.role.rawValue,
                                origin: cfg.origin, vkeys: v.compactMap(vkeyOf)))
            } else {
                c.say("已创建节点 \(cfg.nodeID)（\(cfg.name)，\(r == .city ? "市级" : "县级")）于 \(home.path)",
                      "created node \(cfg.nodeID) (\(cfg.name), \(r.rawValue)) in \(home.path)")
                c.say("日志来源：\(cfg.origin)", "log origin: \(cfg.origin)")
                for k in v.compactMap(vkeyOf) { c.out("  " + k) }
            }
        }
    }
}

extension InitCommand {
    struct InitJSON: Encodable { let home: String, nodeID: String, name: String, role: String, origin: String, vkeys: [String] }
}
