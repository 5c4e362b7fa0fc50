import ArgumentParser
import Foundation
import SXEvidenceCore

struct ConsortiumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consortium",
        abstract: "Manage the consortium policy (members, keys, endpoints, cosigners) and its alerts. 管理联盟策略与告警。",
        discussion: "The policy format is in sxevidence-consortium(5).",
        subcommands: [ConsortiumInitCommand.self, ConsortiumAddCommand.self, ConsortiumRemoveCommand.self, ConsortiumShowCommand.self,
                      ConsortiumExportCommand.self, ConsortiumImportCommand.self, ConsortiumAlertsCommand.self, ConsortiumVerifyForkCommand.self])
}

/// Shared by the policy-changing subcommands (city only): bump the version, sign, store.
func publishPolicy(_ home: NodeHome, _ change: (inout ConsortiumPolicy) throws -> Void) throws -> ConsortiumPolicy {
    guard home.config.role == .city else {
        throw EvidenceError(.usage, zh: "只有市级节点可以修改联盟策略", en: "only the city node changes the consortium policy")
    }
    var p = try home.requirePolicy()
    try change(&p)
    p.tsaRoots = try home.tsaRootFingerprints()
    p.version += 1
    p.created = UTCTime.now()
    let note = try p.signed(with: try home.loadKeys())
    try home.importPolicy(note.serialized)
    return p
}

func policyJSON(_ p: ConsortiumPolicy) -> [String: Any] {
    ["version": p.version, "city": p.city, "created": p.created, "cosigners": p.cosigners,
     "members": p.members.map { m -> [String: Any] in
        ["node_id": m.nodeID, "name": m.name, "role": m.role.rawValue, "origin": m.origin, "endpoint": m.endpoint,
         "ed25519": Base64.encode(m.ed25519), "sm2": Base64.encode(m.sm2)]
     }, "tsa_roots": p.tsaRoots]
}

func parseEd25519VKey(_ s: String) throws -> [UInt8] {
    guard let v = try VerifierKey.parse(s) as? Ed25519NoteVerifier else {
        throw usageError("--city-key 须为 Ed25519 验证公钥（sxevidence key 的第一行）", "--city-key must be an Ed25519 verifier key (first line of sxevidence key)")
    }
    return v.publicKey
}
