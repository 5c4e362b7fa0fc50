import ArgumentParser
import Foundation
import SXEvidenceCore

struct AddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register local files as evidence, one ledger entry per file. 登记本地文件为证据。",
        discussion: "Each evidence ID is printed only after its entry and a signed checkpoint covering it are durable.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Files to register. 文件。")
    var files: [String] = []

    @Option(name: .customLong("case"), help: "Case number. 案件编号。")
    var caseID: String

    @Option(help: "Officer ID (制作人). 执法人员编号。")
    var officer: String

    @Option(help: "Free-text note. 备注。")
    var note: String?

    @Option(help: "Read file paths, one per line, from FILE (- for standard input). 从文件读取路径列表。")
    var from: String?

    func run() throws {
        let c = global.console()
        try c.run {
            try Registrar.validate(caseID: caseID, officer: officer)
            guard !files.isEmpty || from != nil else {
                throw usageError("请给出文件，或用 --from 提供列表", "give files, or a list with --from")
            }
            // Arguments are checked before anything is written: one bad path stops the whole command.
            for f in files { try checkReadable(f) }
            let home = try NodeHome.open(global.homePath)
            let keys = try home.loadKeys()
            var pending = files[...]
            var reader: LineReader?
            if let from {
                reader = try LineReader(path: from)
            }
            let next: () throws -> String? = {
                if let f = pending.popFirst() { return f }
                while let line = try reader?.next() {
                    let p = line.trimmingCharacters(in: .whitespaces)
                    if !p.isEmpty { return p }
                }
                return nil
            }
            var count = 0
            try Registrar(home: home, keys: keys).register(
                files: next, caseID: caseID, officer: officer, note: note,
                progress: { n in if n % 100 == 0 { c.progress(c.t("已处理 \(n) 个文件…", "\(n) files hashed…")) } },
                committed: { entries, cp in
                    c.endProgress()
                    // One write per committed batch.
                    var text = ""
                    for e in entries {
                        let a = e.artifacts[0]
                        if c.json {
                            text += Console.jsonLine(AddedJSON(id: e.evidenceID, index: e.index, name: a.name, size: a.size,
                                                               sha256: a.sha256, sm3: a.sm3, checkpointSize: cp.size))
                        } else {
                            text += "\(e.evidenceID)\t\(a.name)\tsha256:\(a.sha256)\tsm3:\(a.sm3)\n"
                        }
                    }
                    c.out(text, terminator: "")
                    count += entries.count
                })
            c.endProgress()
            stampLatestCheckpoint(c, home)
            if !c.json, let cp = try home.ledger.checkpoint() {
                FileHandle.standardError.write(Data((c.t("已登记 \(count) 件证据；检查点大小 \(cp.size)",
                                                         "registered \(count) item(s); checkpoint size \(cp.size)") + "\n").utf8))
            }
        }
    }

    private func checkReadable(_ path: String) throws {
        if !POSIXFile.exists(path) {
            throw EvidenceError(.notFound, zh: "文件不存在：\(path)", en: "no such file: \(path)")
        }
        if POSIXFile.isDirectory(path) {
            throw usageError("\(path) 是目录，不是文件", "\(path) is a directory, not a file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw EvidenceError(.ioError, zh: "无法读取：\(path)", en: "cannot read: \(path)")
        }
    }
}

extension AddCommand {
    /// One registered file as `add --json` prints it (a line per file).
    struct AddedJSON: Encodable { let id: String, index: Int64, name: String, size: Int64, sha256: String, sm3: String, checkpointSize: Int64 }
}
