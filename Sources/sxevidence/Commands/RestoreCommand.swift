import ArgumentParser
import SXEvidenceCore

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Rebuild a lost node home from the city's replica, verifying everything received. 从市级副本恢复节点。",
        discussion: "Keys come from the node's own backup (--keys DIR with ed25519.pem and sm2.pem). The policy comes from --policy, or from the city checked against --city-key.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "City node URL. 市级节点地址。") var from: String
    @Option(help: "Folder with the node's backed-up private keys. 备份密钥目录。") var keys: String
    @Option(help: "Signed policy file (else fetched from the city). 策略文件。") var policy: String?
    @Option(name: .customLong("city-key"), help: "City Ed25519 verifier key, to check a fetched policy. 市级节点公钥。") var cityKey: String?

    func run() throws {
        let c = global.console()
        try c.run {
            let r = try Restore.run(from: from, keysDir: keys, to: global.homePath, policyText: try policy.map(POSIXFile.readText),
                                    cityKey: try cityKey.map(parseEd25519VKey)) { c.progress($0) }
            c.endProgress()
            if c.json {
                c.emit(RestoreJSON(node: r.node, entries: r.entries, objects: r.objects, missingObjects: r.missingObjects, cosignatures: r.cosignatures))
            } else {
                c.say("已恢复节点 \(r.node)：\(r.entries) 条、\(r.objects) 个文件（\(r.missingObjects) 个市级节点没有），\(r.cosignatures) 个联署签名，均已校验",
                      "restored node \(r.node): \(r.entries) entries, \(r.objects) files (\(r.missingObjects) not held by the city), \(r.cosignatures) cosignatures, all verified")
            }
        }
    }
}

extension RestoreCommand {
    struct RestoreJSON: Encodable { let node: String, entries: Int64, objects: Int, missingObjects: Int, cosignatures: Int }
}
