import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Rebuild a lost node home from the city's replica (sxevidence-consortium(5), RESTORE): keys from
/// the node's own backup, the policy from the backup or the city (checked against a city key given
/// separately), then every batch and object, each verified as a push is.
public enum Restore {
    public struct Result: Sendable {
        public var node: String
        public var entries: Int64
        public var objects: Int
        public var missingObjects: Int
        public var cosignatures: Int
    }

    public static func run(from url: String, keysDir: String, to homePath: String, policyText: String?, cityKey: [UInt8]?,
                           progress: (String) -> Void = { _ in }) throws -> Result {
        let (ed, sm2) = try NodeHome.readKeys(from: keysDir)
        let anon = try NodeClient(base: url, node: "", peer: "", key: nil)
        var text = policyText
        if text == nil {
            let r = try anon.request(.get, "/v1/policy", sign: false)
            guard r.status == 200 else { throw anon.failure(r, "联盟策略 / the policy") }
            text = r.text
        }
        let (policy, _) = try ConsortiumPolicy.verify(text!)
        if policyText == nil {
            guard let cityKey, cityKey == policy.cityMember?.ed25519 else {
                throw EvidenceError(.verification, zh: "从市级节点取得的策略须用 --city-key（另行获得的市级 Ed25519 公钥）核对",
                                    en: "a policy fetched from the city must be checked with --city-key (the city's Ed25519 key, obtained separately)")
            }
        }
        guard let me = policy.members.first(where: { $0.ed25519 == ed.publicKey && $0.sm2 == sm2.publicPoint }) else {
            throw EvidenceError(.verification, zh: "备份密钥不属于联盟策略中的任何成员", en: "the backup keys belong to no member of the policy")
        }
        let cfg = NodeConfig(nodeID: me.nodeID, name: me.name, role: me.role, origin: me.origin, created: UTCTime.now())
        let home = try NodeHome.create(at: homePath, config: cfg, keys: (ed, sm2))
        try POSIXFile.writeAtomically(home.policyPath, Array(text!.utf8))
        let c = try NodeClient(base: url, node: me.nodeID, peer: policy.city, key: ed)
        let node = ConsortiumNode(home: home, keys: nil)
        var objects = 0, missing = 0
        let verifiers = try me.noteVerifiers()
        while true {
            let held = try home.ledger.size()
            let r = try c.request(.get, "/v1/replicas/\(me.nodeID)/batch?start=\(held)&max=5000")
            if r.status == 204 { break }
            guard r.status == 200 else { throw c.failure(r, "副本条目 / replica entries") }
            let b = try EntryBatch.parse(r.body)
            let got = try node.fetchObjects(for: b, from: c, holder: nil)
            objects += got.fetched
            missing += got.missing
            var absent = 0
            let out = try home.ledger.applyBatch(b, verifiers: verifiers, detectedBy: me.nodeID) { a in
                try node.checkArtifact(a, absent: &absent)
            }
            progress("\(out.checkpoint.size)")
            if out.added == 0 { break }
        }
        // Cosignatures the city made on our checkpoints.
        var cos = 0
        if let city = policy.cityMember {
            let v = try city.cosignatureVerifier()
            for cp in try home.ledger.allCheckpoints() where cp.size > 0 {
                let r = try c.request(.get, "/v1/replicas/\(me.nodeID)/cosignature?size=\(cp.size)")
                guard r.status == 200, let note = try? SignedNote.parse(cp.note + r.text), v.check(note.signatures, checkpointText: note.text).ok else { continue }
                let lines = note.signatures.filter { $0.name == city.origin }.map(\.line)
                try home.ledger.storeCosignatures(size: cp.size, witness: city.origin, lines: lines)
                cos += 1
            }
        }
        return Result(node: me.nodeID, entries: try home.ledger.size(), objects: objects, missingObjects: missing, cosignatures: cos)
    }
}
