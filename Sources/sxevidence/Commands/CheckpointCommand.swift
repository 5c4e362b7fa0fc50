import ArgumentParser
import Foundation
import SXEvidenceCore

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print the latest signed checkpoint, or the one signed at --size. 显示签名检查点。")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Tree size of the checkpoint. 检查点大小。")
    var size: Int64?

    @Flag(help: "Append the city's cosignature lines received for it (still a valid signed note). 附上联署签名。")
    var cosigned = false

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            let cp = try checkpointAt(home, size)
            // The note as signed (what time stamps cover); --cosigned adds the city's cosignature lines.
            let note = cosigned ? try home.ledger.cosignedNote(cp) : cp.note
            if c.json {
                c.emit(["size": cp.size, "root": Base64.encode(cp.root), "root_hex": Hex.encode(cp.root),
                        "origin": home.config.origin, "created": cp.created, "note": cp.note,
                        "cosigned_note": try home.ledger.cosignedNote(cp),
                        "cosignatures": try home.ledger.cosignatureLines(size: cp.size)])
            } else {
                c.out(note, terminator: "")
            }
        }
    }
}

/// The checkpoint at `size` (latest when nil), with the documented errors for a bad size.
func checkpointAt(_ home: NodeHome, _ size: Int64?) throws -> Ledger.StoredCheckpoint {
    let n = try home.ledger.size()
    if let size {
        guard size >= 0, size <= n else {
            throw usageError("--size 须在 0 到 \(n) 之间：\(size)", "--size must be between 0 and \(n): \(size)")
        }
        guard let cp = try home.ledger.checkpoint(size: size) else {
            throw EvidenceError(.notFound, zh: "没有在大小 \(size) 处签署的检查点", en: "no checkpoint was signed at size \(size)")
        }
        return cp
    }
    guard let cp = try home.ledger.checkpoint() else {
        throw EvidenceError(.notFound, zh: "账本中还没有检查点", en: "the ledger has no checkpoint yet")
    }
    return cp
}

