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

/// The policy as the consortium subcommands print it with --json.
struct PolicyJSON: Encodable {
    struct MemberJSON: Encodable { let nodeID: String, name: String, role: String, origin: String, endpoint: String, ed25519: String, sm2: String }
    let version: Int64, city: String, created: String, cosigners: [String], members: [MemberJSON], tsaRoots: [String]

    init(_ p: ConsortiumPolicy) {
        version = Int64(p.version); city = p.city; created = p.created; cosigners = p.cosigners; tsaRoots = p.tsaRoots
        members = p.members.map { .init(nodeID: $0.nodeID, name: $0.name, role: $0.role.rawValue, origin: $0.origin, endpoint: $0.endpoint,
                                        ed25519: Base64.encode($0.ed25519), sm2: Base64.encode($0.sm2)) }
    }
}
