import ArgumentParser
import Foundation
import SXEvidenceCore

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync ledgers within the consortium: a county pushes to the city, the city pulls, or by file. 联盟同步。",
        discussion: """
        Without options a county pushes what the city lacks (objects, entries, checkpoints) and stores the \
        city's cosignatures. --pull on the city fetches from members. --export/--import move the same data \
        by file. The receiver checks everything before storing anything (sxevidence-consortium(5)). \
        Exit 0 synced; 1 refused as inconsistent (fork); 75 a node could not be reached; 77 refused (not a member).
        """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Fetch from members (city). 从成员拉取。") var pull = false
    @Argument(help: "With --pull: only these member node IDs. 指定成员。") var nodes: [String] = []
    @Flag(name: .customLong("no-objects"), help: "Leave the stored files at home; send entries and checkpoints only. 不传证据文件。") var noObjects = false
    @Option(help: "Write this node's ledger (from --since) to FILE. 导出到文件。") var export: String?
    @Option(help: "Entry index to export from (default 0). 起始序号。") var since: Int64 = 0
    @Option(name: .customLong("import"), help: "Apply a transfer file from a member. 从文件导入。") var importFile: String?
    @Option(help: "Entries per batch (default 5000). 每批条数。") var batch: Int64 = 5000
    @Option(help: "Reach the city at this URL instead of the policy's endpoint. 市级节点地址。") var city: String?

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            guard batch > 0 else { throw usageError("--batch 须为正数", "--batch must be positive") }
            if let export {
                let r = try TransferFile.export(home: home, to: export, since: since, objects: !noObjects, batchEntries: batch)
                if c.json { c.emit(ExportJSON(file: export, entries: r.entries, objects: r.objects, batches: r.batches)) } else {
                    c.say("已导出 \(r.entries) 条（\(r.batches) 批）、\(r.objects) 个文件到 \(export)",
                          "exported \(r.entries) entries (\(r.batches) batches) and \(r.objects) files to \(export)")
                }
                return
            }
            let keys = try home.loadKeys()
            if let importFile {
                let node = ConsortiumNode(home: home, keys: keys)
                do {
                    let r = try TransferFile.importFile(importFile, into: node)
                    if c.json { c.emit(ImportJSON(node: r.node, added: r.added, objects: r.objects, batches: r.batches)) } else {
                        c.say("已从 \(importFile) 导入节点 \(r.node) 的 \(r.added) 条新条目（\(r.batches) 批）、\(r.objects) 个文件，均已校验",
                              "imported \(r.added) new entries (\(r.batches) batches) and \(r.objects) files of node \(r.node) from \(importFile), all verified")
                    }
                }
                return
            }
            let session = SyncSession(home: home, keys: keys)
            session.batchEntries = batch
            session.cityURL = city
            session.progress = { c.progress($0) }
            if pull {
                let node = ConsortiumNode(home: home, keys: keys)
                let p = try home.requirePolicy()
                let targets = p.members.filter { $0.nodeID != home.config.nodeID && !$0.endpoint.isEmpty && (nodes.isEmpty || nodes.contains($0.nodeID)) }
                for n in nodes where p.member(n) == nil {
                    throw EvidenceError(.notFound, zh: "策略中没有成员 \(n)", en: "no member \(n) in the policy")
                }
                var results: [PullJSON] = []
                var worst: EvidenceError.Code?
                for m in targets {
                    do {
                        let r = try session.pull(m, into: node, objects: !noObjects)
                        c.endProgress()
                        results.append(PullJSON(node: m.nodeID, ok: true, added: r.added, objects: r.objects, size: r.size))
                        let cosigns = p.cosigners.contains(home.config.nodeID)
                        c.say("✓ \(m.nodeID) \(m.name)：新增 \(r.added) 条，\(r.objects) 个文件，副本 \(r.size) 条" + (cosigns ? "，已联署并锚定" : ""),
                              "✓ \(m.nodeID) \(m.name): \(r.added) new entries, \(r.objects) files, replica at \(r.size)" + (cosigns ? ", cosigned and anchored" : ""))
                    } catch {
                        c.endProgress()
                        let e = EvidenceError.wrap(error)
                        results.append(PullJSON(node: m.nodeID, ok: false, error: e.message(c.lang), exit: Int(e.code.exitStatus)))
                        c.say("✗ \(m.nodeID) \(m.name)：\(e.zh)", "✗ \(m.nodeID) \(m.name): \(e.en)")
                        if worst == nil || e.code == .verification { worst = e.code }
                    }
                }
                if c.json { c.emit(["pulled": results]) }
                if let worst { throw ExitCode(worst.exitStatus) }
                return
            }
            let r = try session.push(objects: !noObjects)
            c.endProgress()
            if c.json {
                c.emit(PushJSON(sent: r.sent, batches: r.batches, objects: r.objectsSent, objectBytes: r.objectBytes,
                                citySizeBefore: r.citySize, size: r.size, cosigned: r.cosigned))
            } else if r.sent == 0 {
                c.say("市级节点已有全部 \(r.size) 条，无需同步", "the city already holds all \(r.size) entries; nothing to do")
            } else {
                c.say("已推送 \(r.sent) 条（\(r.batches) 批）、\(r.objectsSent) 个文件；市级节点已校验、联署并锚定至 \(r.size)",
                      "pushed \(r.sent) entries (\(r.batches) batches) and \(r.objectsSent) files; the city verified, cosigned and anchored up to \(r.size)")
            }
        }
    }
}

// --json forms of sync (sxevidence(1), JSON OUTPUT).
extension SyncCommand {
    struct ExportJSON: Encodable { let file: String; let entries: Int64; let objects: Int; let batches: Int }
    struct ImportJSON: Encodable { let node: String; let added: Int64; let objects: Int; let batches: Int }
    struct PullJSON: Encodable {
        let node: String, ok: Bool
        var added: Int64? = nil, objects: Int? = nil, size: Int64? = nil, error: String? = nil, exit: Int? = nil
    }
    struct PushJSON: Encodable { let sent: Int64, batches: Int, objects: Int, objectBytes: Int64, citySizeBefore: Int64, size: Int64, cosigned: Bool }
}
