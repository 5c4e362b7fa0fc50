import SXEvidenceCore

/// An entry as `log --json` and `show --json` print it (sxevidence(1), JSON OUTPUT).
struct EntryJSON: Encodable {
    struct ArtifactJSON: Encodable { let name: String, size: Int64, sha256: String, sm3: String }
    let id: String, index: Int64, kind: String, time: String, node: String
    let caseID: String, officer: String, method: String, note: String?
    let artifacts: [ArtifactJSON]
    /// Only in `show`: the canonical bytes and the hashes.
    var canonicalBase64: String?, leafHash: String?, prevHash: String?

    enum CodingKeys: String, CodingKey {
        case id, index, kind, time, node, caseID = "case", officer, method, note, artifacts, canonicalBase64, leafHash, prevHash
    }

    init(_ e: LedgerEntry, full: Bool = false) {
        id = e.evidenceID; index = e.index; kind = "\(e.kind)"; time = e.time; node = e.node
        caseID = e.caseID; officer = e.officer; method = e.method; note = e.note
        artifacts = e.artifacts.map { .init(name: $0.name, size: $0.size, sha256: $0.sha256, sm3: $0.sm3) }
        if full {
            canonicalBase64 = Base64.encode(e.body)
            leafHash = Hex.encode(e.leafHash)
            prevHash = Hex.encode(e.prevHash)
        }
    }
}
