/// What applying a batch did.
public enum ApplyOutcome: Sendable {
    case applied(added: Int, checkpoint: Ledger.StoredCheckpoint)
    case unchanged(Ledger.StoredCheckpoint)

    public var checkpoint: Ledger.StoredCheckpoint {
        switch self { case .applied(_, let c), .unchanged(let c): return c }
    }
    public var added: Int { if case .applied(let n, _) = self { return n } else { return 0 } }
}
