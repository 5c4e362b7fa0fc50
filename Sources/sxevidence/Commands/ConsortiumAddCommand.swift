import ArgumentParser
import Foundation
import SXEvidenceCore

struct ConsortiumAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add (or update) a member from its key card (`sxevidence key --json` on that node). 添加成员。")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Key card file from `sxevidence key --json` on the member ('-' for stdin). 成员公钥卡。") var card: String
    @Option(help: "The member's server URL (default: keep the one already listed, else none). 成员服务地址。") var endpoint: String?
    @Flag(help: "The member also cosigns (witnesses) checkpoints. 该成员参与联署。") var cosigner = false

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            let raw = card == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : try POSIXFile.readAll(card)
            guard let card = try? JSONDecoder().decode(KeyCard.self, from: Data(raw)), let edKey = Hex.decode(card.ed25519.publicKeyHex), edKey.count == 32,
                  let smKey = Hex.decode(card.sm2.publicPointHex), smKey.count == 65 else {
                throw EvidenceError(.dataError, zh: "公钥卡格式错误（应为 sxevidence key --json 的输出）", en: "malformed key card (expected the output of sxevidence key --json)")
            }
            let id = card.nodeID, origin = card.origin
            try NodeConfig.validateNodeID(id)
            _ = try Ed25519Key.fromPublic(edKey)
            _ = try SM2Key.fromPublicPoint(smKey)
            guard let role = NodeRole(rawValue: card.role ?? "county") else {
                throw EvidenceError(.dataError, zh: "公钥卡中的角色无效", en: "the key card's role is neither city nor county")
            }
            // The card's verifier keys, when present, must be the keys it lists.
            let edV = try Ed25519NoteVerifier(name: origin, publicKey: edKey)
            let smV = try SM2NoteVerifier(name: origin, publicPoint: smKey)
            for (given, computed) in [(card.ed25519.vkey, edV.vkey), (card.sm2.vkey, smV.vkey)] {
                if let given, given != computed {
                    throw EvidenceError(.dataError, zh: "公钥卡自相矛盾：验证公钥与公钥不符", en: "the key card contradicts itself: a verifier key does not match its public key")
                }
            }
            if let e = endpoint, !e.isEmpty { _ = try NodeClient(base: e, node: id, peer: id, key: nil) }   // validates the form
            var m = ConsortiumPolicy.Member(nodeID: id, name: card.name ?? id, role: role, origin: origin,
                                            ed25519: edKey, sm2: smKey, endpoint: endpoint ?? "")
            let p = try publishPolicy(home) { p in
                if id == p.city {
                    guard let old = p.cityMember, old.ed25519 == edKey, old.sm2 == smKey else {
                        throw usageError("不能更换市级节点的公钥", "the city's own keys cannot be replaced here")
                    }
                }
                guard role == .county || id == p.city else { throw usageError("联盟只有一个市级节点", "a consortium has one city node") }
                if let other = p.members.first(where: { $0.origin == origin && $0.nodeID != id }) {
                    throw usageError("来源名已被 \(other.nodeID) 使用", "origin already used by \(other.nodeID)")
                }
                if endpoint == nil, let old = p.member(id) { m.endpoint = old.endpoint }
                p.members = p.members.filter { $0.nodeID != id } + [m]
                p.members.sort { $0.nodeID < $1.nodeID }
                if cosigner && !p.cosigners.contains(id) { p.cosigners.append(id) }
            }
            if c.json { c.emit(PolicyJSON(p)) } else {
                c.say("已加入成员 \(id)（\(m.name)），联盟策略版本 \(p.version)", "added member \(id) (\(m.name)); policy version \(p.version)")
            }
        }
    }
}

extension ConsortiumAddCommand {
    /// What `add` reads of a key card (the output of `sxevidence key --json` on the member).
    struct KeyCard: Decodable {
        struct Ed: Decodable {
            let vkey: String?, publicKeyHex: String
            enum CodingKeys: String, CodingKey { case vkey, publicKeyHex = "public_key_hex" }
        }
        struct SM: Decodable {
            let vkey: String?, publicPointHex: String
            enum CodingKeys: String, CodingKey { case vkey, publicPointHex = "public_point_hex" }
        }
        let nodeID: String, origin: String, name: String?, role: String?
        let ed25519: Ed, sm2: SM
        enum CodingKeys: String, CodingKey { case nodeID = "node_id", origin, name, role, ed25519, sm2 }
    }
}
