import ArgumentParser
import Foundation
import SXEvidenceCore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export evidence for a court: a self-contained, offline-verifiable bundle, or a WACZ of web captures. 导出证据包或 WACZ。",
        discussion: "Bundle format: sxevidence-bundle(5). The city must have cosigned the entries' checkpoint (run sync first); its anchor proof is fetched from the city.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Evidence IDs. 证据编号。") var ids: [String]
    @Option(help: "Output file. 输出文件。") var out: String
    @Option(help: "bundle (default) or wacz. 格式。") var format: String = "bundle"
    @Option(help: "Reach the city at this URL instead of the policy's endpoint. 市级节点地址。") var city: String?
    @Flag(name: .customLong("no-pdf"), help: "Do not render the certificate to PDF. 不生成 PDF。") var noPDF = false
    @Option(help: "Browser for the PDF (default: chromium on PATH). 浏览器。") var browser: String?

    func run() throws {
        let c = global.console()
        try c.run {
            guard !ids.isEmpty else { throw usageError("至少给出一个证据编号", "give at least one evidence ID") }
            let home = try NodeHome.open(global.homePath)
            if POSIXFile.exists(out) { throw EvidenceError(.exists, zh: "\(out) 已存在，拒绝覆盖", en: "\(out) exists; refusing to overwrite it") }
            switch format {
            case "bundle":
                let x = BundleExporter(home: home, keys: try home.loadKeys())
                x.cityURL = city
                x.pdf = !noPDF
                x.browser = browser
                x.progress = { c.progress($0) }
                let r = try x.export(ids: ids, to: out)
                c.endProgress()
                if c.json { c.emit(BundleJSON(file: out, items: r.items, files: r.files, artifactBytes: r.bytes, pdf: r.pdf)) } else {
                    c.say("已导出证据包 \(out)：\(r.items) 项证据、\(r.files) 个文件\(r.pdf ? "（含 PDF 证书）" : "")",
                          "wrote bundle \(out): \(r.items) items, \(r.files) files\(r.pdf ? " (with PDF certificates)" : "")")
                }
            case "wacz":
                let r = try WACZExporter(home: home).export(ids: ids, to: out)
                if c.json { c.emit(WACZJSON(file: out, captures: r.captures, pages: r.pages, records: r.records)) } else {
                    c.say("已导出 WACZ \(out)：\(r.captures) 次取证、\(r.pages) 个页面", "wrote WACZ \(out): \(r.captures) captures, \(r.pages) pages")
                }
            default:
                throw usageError("--format 须为 bundle 或 wacz：\(format)", "--format must be bundle or wacz: \(format)")
            }
        }
    }
}

extension ExportCommand {
    struct BundleJSON: Encodable { let file: String, items: Int, files: Int, artifactBytes: Int64, pdf: Bool }
    struct WACZJSON: Encodable { let file: String, captures: Int, pages: Int, records: Int }
}
