/// The consortium tables of a ledger (ReplicaStore in Store/), as the ledger's callers use them.
extension Ledger {
    /// Cosignature lines this node received for its own checkpoint of `size`.
    public func storeCosignatures(size: Int64, witness: String, lines: [String]) throws {
        try store.replica.storeCosignatures(size: size, witness: witness, lines: lines)
    }

    public func cosignatureLines(size: Int64) throws -> [String] { try store.replica.cosignatureLines(size: size) }

    /// A checkpoint note with the cosignatures received for it appended (a valid signed note).
    public func cosignedNote(_ cp: StoredCheckpoint) throws -> String {
        cp.note + (try cosignatureLines(size: cp.size)).joined()
    }

    /// The smallest checkpoint size above `index` for which this node holds `witness`'s cosignature.
    public func firstCosignedCheckpoint(after index: Int64, witness: String) throws -> Int64? {
        try store.replica.firstCosignedCheckpoint(after: index, witness: witness)
    }

    /// The checkpoint of `origin` this node cosigned at `size`, or the latest one.
    public func cosigned(origin: String, size: Int64? = nil) throws -> CosignedRow? {
        try store.replica.cosigned(origin: origin, size: size)
    }

    public func allCosigned() throws -> [CosignedRow] { try store.replica.allCosigned() }

    /// Must run inside the write transaction that appends the anchor (`append`'s `alsoInTransaction`);
    /// a row already there is thrown with the cause `AlreadyCosigned`.
    func insertCosigned(origin: String, size: Int64, root: [UInt8], note: String, anchorIndex: Int64?) throws {
        try store.replica.insertCosigned(origin: origin, size: size, root: root, note: note, anchorIndex: anchorIndex)
    }

    /// Record that an operator has dealt with an alert (the alert itself stays).
    public func acknowledgeAlert(_ id: Int64, note: String) throws { try store.replica.acknowledgeAlert(id, note: note) }

    public func recordAlert(node: String, kind: String, detail: String, proof: String?) throws {
        try store.replica.recordAlert(node: node, kind: kind, detail: detail, proof: proof)
    }

    public func alerts() throws -> [LedgerAlert] { try store.replica.alerts() }

    public func objectDigest(sha256: String) throws -> (size: Int64, sm3: String)? { try store.replica.objectDigest(sha256: sha256) }

    public func recordObjectDigests(_ list: [(sha256: String, size: Int64, sm3: String)]) throws {
        try store.replica.recordObjectDigests(list)
    }

    /// Record that `node` delivered these objects (it proved it holds the bytes).
    public func recordHolder(_ digests: [String], node: String) throws { try store.replica.recordHolder(digests, node: node) }

    public func isHolder(sha256: String, node: String) throws -> Bool { try store.replica.isHolder(sha256: sha256, node: node) }

    /// Whether an entry of this ledger names the object with exactly this size and SM3.
    public func names(sha256: String, size: Int64, sm3: String) throws -> Bool {
        try store.entries.names(sha256: sha256, size: size, sm3: sm3)
    }

    /// Drop read snapshots held by finished statements, so a long-running process sees later commits.
    public func refresh() { store.resetAll() }

    /// The database file, and whether the path still names the file this ledger opened.
    public var databasePath: String { store.path }
    public var databaseStillAtPath: Bool { store.stillAtPath }
}
