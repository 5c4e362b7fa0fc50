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
                c.emit(CheckpointJSON(size: cp.size, root: Base64.encode(cp.root), rootHex: Hex.encode(cp.root),
                                      origin: home.config.origin, created: cp.created, note: cp.note,
                                      cosignedNote: try home.ledger.cosignedNote(cp),
                                      cosignatures: try home.ledger.cosignatureLines(size: cp.size)))
            } else {
                c.out(note, terminator: "")
            }
        }
    }
}

extension CheckpointCommand {
    struct CheckpointJSON: Encodable {
        let size: Int64, root: String, rootHex: String, origin: String, created: String, note: String, cosignedNote: String, cosignatures: [String]
    }
}
