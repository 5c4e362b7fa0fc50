import ArgumentParser
import SXEvidenceCore

struct ConsortiumVerifyForkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-fork",
        abstract: "Check a fork proof: two checkpoints signed by one member that no append-only log can both have. 核验分叉证明。",
        discussion: "Exit 0 when the proof holds (the member forked) under trust roots you hold: the node's own policy, or --policy with --city-key matching its city key; 2 when it holds under a --policy not checked against a city key you hold (its fingerprints are printed); 1 when it does not hold.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Fork proof file (sxevidence-fork/1). 分叉证明文件。") var file: String
    @Option(help: "Signed policy to take the member's keys from (default: the node's). 策略文件。") var policy: String?
    @Option(name: .customLong("city-key"), help: "With --policy: the city's Ed25519 verifier key, obtained separately (trust root). 另行取得的市级公钥。")
    var cityKey: String?

    func run() throws {
        let c = global.console()
        try c.run {
            let proof = try ForkProof.parse(try POSIXFile.readAll(file))
            let p: ConsortiumPolicy
            var confirmed = true
            if let policy {
                let trusted = try cityKey.map(parseEd25519VKey)
                p = try ConsortiumPolicy.verify(try POSIXFile.readText(policy)).0
                if let trusted {
                    guard p.cityMember?.ed25519 == trusted else {
                        throw EvidenceError(.verification, zh: "所给策略的市级公钥与 --city-key 不符", en: "the policy's city key is not the --city-key given")
                    }
                } else {
                    confirmed = false
                }
            } else {
                if cityKey != nil { throw usageError("--city-key 与 --policy 一起使用", "--city-key goes with --policy") }
                p = try NodeHome.open(global.homePath).requirePolicy()
            }
            guard let m = p.member(proof.node), m.origin == proof.origin else {
                throw EvidenceError(.notFound, zh: "策略中没有节点 \(proof.node)", en: "the policy has no node \(proof.node)")
            }
            let (a, b) = try proof.verify(keys: try m.noteVerifiers())
            let city = p.cityMember
            let fp = ["ed25519": Hex.encode(Hashing.sha256(city?.ed25519 ?? [])), "sm2": Hex.encode(Hashing.sha256(city?.sm2 ?? []))]
            if c.json {
                c.emit(ForkJSON(ok: true, trustRootsConfirmed: confirmed, node: m.nodeID, origin: m.origin, size1: a, size2: b, fingerprints: fp))
            } else {
                c.say("分叉证明成立：节点 \(m.nodeID) 签署了互不一致的检查点（\(a) 与 \(b)）",
                      "fork proof holds: node \(m.nodeID) signed inconsistent checkpoints (sizes \(a) and \(b))")
                if !confirmed {
                    c.say("但所给策略未对照您持有的信任根核验（未给 --city-key）；市级节点公钥指纹：",
                          "but the policy given was not checked against a trust root you hold (no --city-key); city key fingerprints:")
                    c.out("city key ed25519 sha256:\(fp["ed25519"]!)")
                    c.out("city key sm2 sha256:\(fp["sm2"]!)")
                }
            }
            if !confirmed { throw ExitCode(2) }
        }
    }
}

extension ConsortiumVerifyForkCommand {
    struct ForkJSON: Encodable {
        let ok: Bool, trustRootsConfirmed: Bool, node: String, origin: String, size1: Int64, size2: Int64, fingerprints: [String: String]
    }
}
