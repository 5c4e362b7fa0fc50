import ArgumentParser

struct ProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof",
        abstract: "Print Merkle proofs (C2SP tlog-proof, consistency). 输出默克尔证明。",
        subcommands: [ProofInclusionCommand.self, ProofConsistencyCommand.self])
}
