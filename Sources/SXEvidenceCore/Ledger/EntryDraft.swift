/// What a caller asks the ledger to record; the ledger adds index, ID, time, node and chain link.
public struct EntryDraft: Sendable {
    public var kind: EntryKind
    public var caseID: String
    public var officer: String
    public var method: String
    public var note: String?
    public var artifacts: [Artifact]

    public init(kind: EntryKind, caseID: String, officer: String, method: String, note: String?, artifacts: [Artifact]) {
        self.kind = kind
        self.caseID = caseID
        self.officer = officer
        self.method = method
        self.note = note
        self.artifacts = artifacts
    }
}
