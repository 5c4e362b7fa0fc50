extension Ledger {
    /// The next batch to send to a peer that holds `old` entries: from `old` to the largest checkpoint
    /// at most `max` entries further (or the next checkpoint when none is that close); nil when the
    /// peer is up to date.
    public func batch(old: Int64, max: Int64) throws -> EntryBatch? {
        try store.readTransaction {
            let total = try size()
            guard old >= 0, max > 0, old < total else { return nil }
            guard let cp = try store.checkpoints.last(after: old, atMost: old + max) ?? store.checkpoints.first(after: old) else { return nil }
            let end = cp.size, note = cp.note
            let bodies = try store.entries.bodies(from: old, to: end)
            let proof = old == 0 ? [] : try proofs.consistencyProof(from: old, to: end)
            let oldRoot = try proofs.root(size: old)
            return EntryBatch(node: nodeID, start: old, bodies: bodies, old: old, oldRoot: oldRoot, proof: proof, checkpointNote: note)
        }
    }
}
