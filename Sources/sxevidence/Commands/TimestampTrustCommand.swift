import ArgumentParser
import Foundation
import SXEvidenceCore

struct TimestampTrustCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Add a TSA to the node config with the certificates trusted for it. 配置时间戳服务。")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "TSA URL (http or https).") var url: String
    @Option(help: "PEM file with the TSA's root (and intermediate) certificates.") var ca: String
    @Flag(help: "Also ask this TSA for SM3 imprints.") var sm3 = false

    func run() throws {
        let c = global.console()
        try c.run {
            try WebCapture.validate(url)
            let home = try NodeHome.open(global.homePath)
            let pem = try POSIXFile.readText(ca)
            guard !(try X509Cert.parseAll(pem)).isEmpty else { throw EvidenceError(.dataError, zh: "\(ca) 中没有证书", en: "no certificate in \(ca)") }
            try home.addTSA(url: url, caPEM: pem, sm3: sm3)
            if c.json {
                c.emit(TrustJSON(tsa: url, sm3: sm3, trustedCertificates: try X509Cert.parseAll(pem).map(\.subject)))
            } else {
                c.say("已添加时间戳服务 \(url)", "added TSA \(url)")
            }
        }
    }
}

extension TimestampTrustCommand {
    struct TrustJSON: Encodable { let tsa: String; let sm3: Bool; let trustedCertificates: [String] }
}
