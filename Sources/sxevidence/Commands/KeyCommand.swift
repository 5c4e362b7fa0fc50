import ArgumentParser
import SXEvidenceCore

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Print the node's public keys (signed-note verifier keys and PEM). 显示节点公钥。")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            let v = try home.verifiers()
            let ed = v.compactMap { $0 as? Ed25519NoteVerifier }.first!
            let sm2 = v.compactMap { $0 as? SM2NoteVerifier }.first!
            let edPEM = try POSIXFile.readText(home.keysDir + "/ed25519.pub.pem")
            let smPEM = try POSIXFile.readText(home.keysDir + "/sm2.pub.pem")
            if c.json {
                c.emit(KeysJSON(nodeID: home.config.nodeID, origin: home.config.origin, name: home.config.name, role: home.config.role.rawValue,
                                ed25519: .init(vkey: ed.vkey, keyID: NoteKeyID.hex(ed.keyID), publicKeyHex: Hex.encode(ed.publicKey), pem: edPEM),
                                sm2: .init(vkey: sm2.vkey, keyID: NoteKeyID.hex(sm2.keyID), publicPointHex: Hex.encode(sm2.publicPoint), pem: smPEM,
                                           distinguishingID: "1234567812345678")))
                return
            }
            c.say("节点 \(home.config.nodeID)（\(home.config.name)）", "node \(home.config.nodeID) (\(home.config.name))")
            c.say("Ed25519 验证公钥（C2SP signed-note）：", "Ed25519 verifier key (C2SP signed-note):")
            c.out(ed.vkey)
            c.say("SM2 验证公钥（sxevidence-ledger(5)，SM2-SM3，ID 1234567812345678）：",
                  "SM2 verifier key (sxevidence-ledger(5), SM2-SM3, ID 1234567812345678):")
            c.out(sm2.vkey)
            c.out("")
            c.out(edPEM.trimmingCharacters(in: .whitespacesAndNewlines))
            c.out(smPEM.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

extension KeyCommand {
    struct Ed25519JSON: Encodable { let vkey: String, keyID: String, publicKeyHex: String, pem: String }
    struct SM2JSON: Encodable { let vkey: String, keyID: String, publicPointHex: String, pem: String, distinguishingID: String }
    struct KeysJSON: Encodable { let nodeID: String, origin: String, name: String, role: String; let ed25519: Ed25519JSON; let sm2: SM2JSON }
}
