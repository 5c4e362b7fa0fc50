/// Who may read what from a node's server (sxevidence-consortium(5), ACCESS): the one rule every
/// route asks. Unsigned routes (policy, checkpoint, proofs, health) serve only tree heads and
/// proofs, which are public by design; everything else needs a signed request from a member.
public enum Access {
    public enum Resource: Sendable {
        /// A node's log: its entries and batches (which name cases, officers, notes and digests), its
        /// replica's checkpoint and state, the cosignatures and anchors of its checkpoints.
        case log(of: String)
        /// An object's bytes, or whether this server holds it; `holders` are the members that
        /// delivered the bytes themselves (uploaded them for their own entries, or were pulled from).
        case object(holders: Set<String>)
    }

    /// The city may read everything (it verifies, pulls and restores). Any other member may read its
    /// own log, and an object only if it delivered that object itself: naming a digest in an entry
    /// never grants access to bytes another member delivered.
    public static func allows(_ requester: ConsortiumPolicy.Member, _ resource: Resource) -> Bool {
        if requester.role == .city { return true }
        switch resource {
        case .log(let node): return requester.nodeID == node
        case .object(let holders): return holders.contains(requester.nodeID)
        }
    }
}
