import ArgumentParser
import SXEvidenceCore

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one entry with its canonical bytes and hashes. 显示一条证据。")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Evidence ID, e.g. 330603-000042. 证据编号。")
    var id: String

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            let e = try lookupEntry(home, id)
            if c.json {
                c.emit(EntryJSON(e, full: true))
                return
            }
            c.out("\(c.t("证据编号", "evidence ID")): \(e.evidenceID)  (index \(e.index))")
            c.out("\(c.t("类型", "kind")): \(e.kind)")
            c.out("\(c.t("登记时间", "time")): \(e.time)")
            c.out("\(c.t("节点", "node")): \(e.node)")
            c.out("\(c.t("案件", "case")): \(e.caseID)")
            c.out("\(c.t("制作人", "officer")): \(e.officer)")
            c.out("\(c.t("制作方法", "method")): \(e.method)")
            if let n = e.note { c.out("\(c.t("备注", "note")): \(n)") }
            for a in e.artifacts {
                c.out("\(c.t("文件", "artifact")): \(a.name)  \(a.size) bytes")
                c.out("  SHA-256: \(a.sha256)")
                c.out("  SM3:     \(a.sm3)")
            }
            c.out("\(c.t("叶哈希", "leaf hash")): \(Hex.encode(e.leafHash))")
            c.out("\(c.t("前一条哈希", "previous hash")): \(Hex.encode(e.prevHash))")
            c.out("\(c.t("规范编码", "canonical bytes")): \(String(decoding: e.body, as: UTF8.self))")
        }
    }
}
