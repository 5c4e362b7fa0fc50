import ArgumentParser
import SXEvidenceCore

struct ProofInclusionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inclusion",
        abstract: "Inclusion proof of an entry, as c2sp.org/tlog-proof@v1 with its checkpoint. 包含证明。")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Evidence ID. 证据编号。")
    var id: String

    @Option(help: "Prove against the checkpoint signed at this size (default: latest). 检查点大小。")
    var size: Int64?

    func run() throws {
        let c = global.console()
        try c.run {
            let home = try NodeHome.open(global.homePath)
            let e = try lookupEntry(home, id)
            let cp = try checkpointAt(home, size)
            guard e.index < cp.size else {
                throw usageError("检查点 \(cp.size) 尚未包含 \(id)（序号 \(e.index)）",
                                 "checkpoint at size \(cp.size) does not yet include \(id) (index \(e.index))")
            }
            let hashes = try home.ledger.inclusionProof(index: e.index, size: cp.size)
            let proof = TlogProof(index: e.index, hashes: hashes, checkpointNote: cp.note)
            if c.json {
                c.emit(InclusionJSON(id: e.evidenceID, index: e.index, size: cp.size, leafHash: Hex.encode(e.leafHash),
                                     hashes: hashes.map(Base64.encode), checkpoint: cp.note, tlogProof: proof.serialized))
            } else {
                c.out(proof.serialized, terminator: "")
            }
        }
    }
}

extension ProofInclusionCommand {
    struct InclusionJSON: Encodable { let id: String, index: Int64, size: Int64, leafHash: String, hashes: [String], checkpoint: String, tlogProof: String }
}
