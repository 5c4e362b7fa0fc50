import Foundation

extension ConsortiumNode {
    static func refuse(_ r: WitnessRefusal, zh: String, en: String) -> EvidenceError {
        let code: EvidenceError.Code
        switch r {
        case .notAWitness, .unknownOrigin: code = .notFound
        case .malformed: code = .dataError
        case .badSignature: code = .denied
        case .conflict, .unverifiable, .fork: code = .verification
        }
        return EvidenceError(code, zh: zh, en: en, cause: r)
    }

    /// c2sp.org/tlog-witness add-checkpoint, for members' origins, on a node the policy names as a
    /// cosigner; returns the cosignature lines. Stricter than the protocol in one way: both of the
    /// member's signatures (Ed25519 and SM2) must be present and valid, since the anchor made from it
    /// must verify in full. A refusal is an `EvidenceError` whose cause is a `WitnessRefusal`.
    public func addCheckpoint(body: [UInt8]) throws -> [String] {
        let p = try policy()
        guard let keys, p.cosigners.contains(home.config.nodeID) else {
            throw Self.refuse(.notAWitness, zh: "本节点不是见证节点", en: "this node does not witness")
        }
        func malformed(_ what: String, _ zh: String) -> EvidenceError {
            Self.refuse(.malformed(what), zh: "请求格式错误：\(zh)", en: "malformed \(what)")
        }
        let text = String(decoding: body, as: UTF8.self)
        guard let sep = text.range(of: "\n\n") else { throw malformed("request", "缺少空行") }
        let head = text[..<sep.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = head.first, first.hasPrefix("old "), let old = Int64(first.dropFirst(4)), old >= 0,
              String(old) == first.dropFirst(4), head.count - 1 <= 63 else {
            throw malformed("old size line", "old 行")
        }
        var proof: [[UInt8]] = []
        for l in head.dropFirst() {
            guard let h = Base64.decode(String(l)), h.count == 32 else { throw malformed("proof line", "证明行") }
            proof.append(h)
        }
        let noteText = String(text[sep.upperBound...])
        guard let note = try? SignedNote.parse(noteText), let cp = try? Checkpoint.parse(text: note.text) else {
            throw malformed("checkpoint", "检查点")
        }
        guard let m = p.member(origin: cp.origin), m.nodeID != home.config.nodeID else {
            throw Self.refuse(.unknownOrigin, zh: "未知的来源", en: "unknown origin")
        }
        let verifiers = try m.noteVerifiers()
        let results = note.check(with: verifiers)
        guard results.count == verifiers.count, results.allSatisfy(\.ok) else {
            throw Self.refuse(.badSignature, zh: "检查点须有 \(m.origin) 有效的 Ed25519 与 SM2 签名",
                              en: "the checkpoint needs valid Ed25519 and SM2 signatures by \(m.origin)")
        }
        guard old <= cp.size else { throw malformed("old size (exceeds checkpoint size)", "old 大于检查点大小") }
        let latest = try home.ledger.cosigned(origin: cp.origin)
        let held = latest?.size ?? 0
        guard old == held else {
            throw Self.refuse(.conflict(held: held), zh: "旧大小与已见证的 \(held) 不符", en: "old size does not match the cosigned size \(held)")
        }
        func unverifiable(_ zh: String, _ en: String) -> EvidenceError { Self.refuse(.unverifiable(en), zh: zh, en: en) }
        if cp.size == 0 && cp.root != MerkleHasher.emptyRoot { throw unverifiable("空树根错误", "bad empty root") }
        if let latest, old == cp.size {
            guard latest.root == cp.root else {
                let proofDoc = ForkProof(node: m.nodeID, origin: m.origin, first: try Self.stripCosignatures(latest.note, witness: keys.name),
                                         second: noteText, path: [], detectedBy: home.config.nodeID)
                try raiseFork(proofDoc, member: m)
                throw Self.refuse(.fork("same size, different root"), zh: "大小相同而根不同（分叉）", en: "same size, different root")
            }
            return try Self.cosignatureLines(latest.note, witness: keys.name)
        }
        if old == 0 {
            guard proof.isEmpty else { throw unverifiable("old 为 0 时证明须为空", "proof must be empty for old size 0") }
        } else if !MerkleVerifier.verifyConsistency(size1: old, size2: cp.size, root1: latest!.root, root2: cp.root, proof: proof) {
            throw unverifiable("一致性证明不成立", "consistency proof does not verify")
        }
        // The city's cosignature says it has verified the entries (every cosignature is anchored):
        // it cosigns only a checkpoint its replica backs, never one whose entries it has not seen.
        guard hasReplica(m.nodeID), let replicaCP = try replica(for: m).checkpoint(), replicaCP.size >= cp.size else {
            throw unverifiable("此检查点的条目尚未推送到本节点，请先推送（POST /v1/push）",
                               "the entries of this checkpoint have not been pushed to this node; push them first (POST /v1/push)")
        }
        let replica = try replica(for: m)
        guard try replica.root(size: cp.size) == cp.root else {
            let path = replicaCP.size > cp.size ? try replica.consistencyPath(from: cp.size, to: replicaCP.size) : []
            let proofDoc = ForkProof(node: m.nodeID, origin: m.origin, first: noteText, second: replicaCP.note, path: path,
                                     detectedBy: home.config.nodeID)
            try raiseFork(proofDoc, member: m)
            throw Self.refuse(.fork("disagrees with the verified replica"), zh: "检查点与已验证的副本不符（分叉）",
                              en: "the checkpoint disagrees with the verified replica (fork)")
        }
        return try cosign(note: noteText, checkpoint: cp, member: m)
    }
}
