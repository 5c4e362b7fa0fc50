import ArgumentParser
import SXEvidenceCore

struct SelfTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Known-answer tests of SHA-256, SM3, Ed25519 and SM2. 密码算法自检。")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let c = global.console()
        try c.run {
            let results = CryptoSelfTest.run()
            if c.json {
                c.emit(SelfTestJSON(ok: results.allSatisfy(\.ok), tests: results.map { .init(name: $0.name, ok: $0.ok) }))
            } else {
                for r in results { c.out("\(r.ok ? "✓" : "✗") \(r.name)") }
            }
            try CryptoSelfTest.require()
        }
    }
}

extension SelfTestCommand {
    struct TestJSON: Encodable { let name: String; let ok: Bool }
    struct SelfTestJSON: Encodable { let ok: Bool; let tests: [TestJSON] }
}
