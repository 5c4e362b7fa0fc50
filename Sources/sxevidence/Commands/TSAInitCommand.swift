import ArgumentParser
import Foundation
import SXEvidenceCore

struct TSAInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make a node CA and a TSA certificate (ECDSA P-256) in HOME/tsa. 创建时间戳服务证书。",
        discussion: "OpenSSL 3.0 cannot sign time stamps with SM2 or Ed25519 keys, so the TSA key is ECDSA P-256.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Policy OID of the tokens (default: a new 2.25 UUID OID).") var policy: String?
    @Option(help: "Certificate lifetime in days.") var days: Int = 3650

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            let dir = home.path + "/tsa"
            if POSIXFile.exists(dir + "/tsa.pem") {
                throw EvidenceError(.exists, zh: "\(dir)/tsa.pem 已存在，拒绝覆盖", en: "\(dir)/tsa.pem already exists; refusing to replace it")
            }
            try POSIXFile.mkdirs(dir)
            guard days > 0 else { throw usageError("--days 须大于 0", "--days must be positive") }
            let oid = policy ?? "2.25." + uuidInteger()
            guard oid.split(separator: ".").count >= 2, oid.allSatisfy({ $0.isNumber || $0 == "." }) else {
                throw usageError("--policy 须为点分 OID：\(oid)", "--policy must be a dotted OID: \(oid)")
            }
            let issued = try TSACertificates.issue(nodeID: home.config.nodeID, name: home.config.name, days: days)
            try POSIXFile.writeAtomically(dir + "/ca.pem", Array(issued.caPEM.utf8))
            try POSIXFile.writeAtomically(dir + "/ca.key", Array(issued.caKeyPEM.utf8), mode: 0o600)
            try POSIXFile.writeAtomically(dir + "/tsa.key", Array(issued.tsaKeyPEM.utf8), mode: 0o600)
            try POSIXFile.writeAtomically(dir + "/policy", Array((oid + "\n").utf8))
            try POSIXFile.writeAtomically(dir + "/tsa.pem", Array(issued.tsaPEM.utf8))
            if c.json {
                c.emit(["ca": dir + "/ca.pem", "tsa_certificate": dir + "/tsa.pem", "policy": oid])
            } else {
                c.say("已创建时间戳服务证书：\(dir)/tsa.pem（根证书 \(dir)/ca.pem，策略 \(oid)）",
                      "TSA certificate made: \(dir)/tsa.pem (root \(dir)/ca.pem, policy \(oid))")
                c.say("用 sxevidence serve --listen 主机:端口 提供 POST /tsa", "serve it with sxevidence serve --listen HOST:PORT (POST /tsa)")
            }
        }
    }
}
