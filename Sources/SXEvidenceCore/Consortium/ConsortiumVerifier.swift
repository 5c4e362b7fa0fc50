import Foundation

/// `verify --consortium` (sxevidence-consortium(5), CONSORTIUM VERIFICATION): every replica this
/// node keeps, checked as `verify` checks a ledger but with the member's keys from the policy; every
/// anchor entry in our own ledger (the member's signatures, our cosignatures, agreement with the
/// replica); and that each replica's latest checkpoint is anchored.
public struct ConsortiumVerifier {
    public let node: ConsortiumNode
    public var checkObjects = true

    public init(node: ConsortiumNode) { self.node = node }

    public struct NodeReport: Sendable, Codable {
        public var node: String
        public var name: String
        public var replicated = false
        public var size: Int64 = 0
        public var anchors = 0
        public var latestAnchored = false
        public var alerts = 0
        public var ledger: VerifyReport?
        public var problems: [String] = []
        public var ok: Bool { problems.isEmpty && (ledger?.ok ?? true) }
    }

    public func run(progress: (String, Int64, Int64) -> Void = { _, _, _ in }) throws -> [NodeReport] {
        let home = node.home
        let policy = try node.policy()
        guard let city = policy.member(home.config.nodeID) else {
            throw EvidenceError(.verification, zh: "本节点不在联盟策略中", en: "this node is not in the consortium policy")
        }
        let cos = try city.cosignatureVerifier()
        let cosigns = policy.cosigners.contains(home.config.nodeID)
        // Anchor entries in our own ledger, by origin and size.
        var anchored: [String: [Int64: [UInt8]]] = [:]
        var anchorProblems: [String: [String]] = [:]
        let alerts = try home.ledger.alerts()
        try home.ledger.entries(kind: .anchor) { e in
            guard let text = e.note else { return }
            do {
                let note = try SignedNote.parse(text)
                let cp = try Checkpoint.parse(text: note.text)
                guard let m = policy.member(origin: cp.origin) else {
                    anchorProblems["?", default: []].append("\(e.evidenceID): anchor for unknown origin \(cp.origin)")
                    return
                }
                let sig = note.check(with: try m.noteVerifiers())
                if sig.count != 2 || !sig.allSatisfy(\.ok) {
                    anchorProblems[m.nodeID, default: []].append("\(e.evidenceID): checkpoint \(cp.size) lacks valid signatures by \(m.nodeID)")
                }
                if !cos.check(note.signatures, checkpointText: note.text).ok {
                    anchorProblems[m.nodeID, default: []].append("\(e.evidenceID): cosignature by \(city.origin) does not verify")
                }
                anchored[cp.origin, default: [:]][cp.size] = cp.root
            } catch {
                anchorProblems["?", default: []].append("\(e.evidenceID): anchor note unreadable: \(error)")
            }
        }
        var out: [NodeReport] = []
        for m in policy.members where m.nodeID != home.config.nodeID {
            var r = NodeReport(node: m.nodeID, name: m.name)
            r.problems = anchorProblems[m.nodeID] ?? []
            r.alerts = alerts.filter { $0.node == m.nodeID && $0.acknowledged == nil }.count
            if r.alerts > 0 { r.problems.append("\(r.alerts) unacknowledged alert(s): see consortium alerts") }
            let mine = anchored[m.origin] ?? [:]
            r.anchors = mine.count
            if node.hasReplica(m.nodeID) {
                r.replicated = true
                let replica = try node.replica(for: m)
                // A replica has no time stamps of its own to check; its objects are in this node's store.
                let keys = try m.noteVerifiers()
                var v = LedgerVerifier(ledger: replica, objects: home.store, trustedTSAs: [], defaultKeys: { keys })
                v.absentObjectsAllowed = true
                v.checkObjects = checkObjects
                r.ledger = try v.run { what, done, total in progress("\(m.nodeID) \(what)", done, total) }
                r.size = try replica.size()
                for (size, root) in mine.sorted(by: { $0.key < $1.key }) {
                    // An anchor is made only from a verified replica; one the replica cannot back is a problem.
                    if size > r.size {
                        r.problems.append("anchored checkpoint \(size) is beyond the replica (\(r.size) entries): the replica cannot back it")
                    } else if try replica.root(size: size) != root {
                        r.problems.append("anchored checkpoint \(size) disagrees with the replica")
                    }
                }
                if let latest = try replica.checkpoint() {
                    r.latestAnchored = latest.size == 0 || mine[latest.size] == latest.root
                    if !r.latestAnchored && cosigns { r.problems.append("latest replica checkpoint \(latest.size) is not anchored") }
                }
            } else if !mine.isEmpty {
                r.problems.append("\(mine.count) anchored checkpoint(s) but no replica to back them")
            }
            out.append(r)
        }
        if let stray = anchorProblems["?"] {
            var r = NodeReport(node: "?", name: "anchors")
            r.problems = stray
            out.append(r)
        }
        return out
    }
}
