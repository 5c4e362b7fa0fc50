/// A checkpoint that cannot be on the same append-only log as one already held, with the proof.
/// Thrown as the cause of an `EvidenceError` (`.verification`); read it with `error.cause(as: ForkDetected.self)`.
public struct ForkDetected: Error, Sendable {
    public let proof: ForkProof

    /// The error to throw: this as its cause.
    public var asError: EvidenceError {
        .verification(zh: "检测到分叉：节点 \(proof.node) 的检查点互不一致，已拒绝并保存证明（consortium alerts）",
                      en: "fork detected: checkpoints of node \(proof.node) are inconsistent; refused, proof kept (consortium alerts)",
                      cause: self)
    }
}
