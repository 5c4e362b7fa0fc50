import ArgumentParser
import SXEvidenceCore

struct ProofConsistencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consistency",
        abstract: "Consistency proof from size M to the checkpoint at size N (tlog-witness add-checkpoint form). 一致性证明。")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Old tree size M. 旧大小。")
    var old: Int64

    @Argument(help: "New tree size N (a signed checkpoint). 新大小。")
    var new: Int64

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            guard old >= 1, old <= new else {
                throw usageError("须满足 1 ≤ M ≤ N：\(old) \(new)", "sizes must satisfy 1 <= M <= N: \(old) \(new)")
            }
            let cp = try checkpointAt(home, new)
            let hashes = try home.ledger.consistencyProof(from: old, to: new)
            var text = "old \(old)\n"
            for h in hashes { text += Base64.encode(h) + "\n" }
            text += "\n" + cp.note
            if c.json {
                c.emit(ConsistencyJSON(old: old, new: new, oldRoot: Base64.encode(try home.ledger.root(size: old)),
                                       newRoot: Base64.encode(cp.root), hashes: hashes.map(Base64.encode), checkpoint: cp.note))
            } else {
                c.out(text, terminator: "")
            }
        }
    }
}

extension ProofConsistencyCommand {
    struct ConsistencyJSON: Encodable { let old: Int64, new: Int64, oldRoot: String, newRoot: String, hashes: [String], checkpoint: String }
}
