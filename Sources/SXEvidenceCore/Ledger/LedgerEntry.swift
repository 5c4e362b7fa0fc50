/// One ledger entry as stored. `body` is the canonical encoding (sxevidence-ledger(5), ENTRY) and
/// is what the leaf hash covers; the other fields are the columns it was built from.
public struct LedgerEntry: Sendable {
    public static let format = "sxevidence-entry/1"

    public var index: Int64
    public var evidenceID: String
    /// As signed (`EntryKind.rawValue` for every entry this version writes).
    public var kind: String
    public var time: String
    public var node: String
    public var caseID: String
    public var officer: String
    public var method: String
    public var note: String?
    public var artifacts: [Artifact]
    public var prevHash: [UInt8]
    public var leafHash: [UInt8]
    public var body: [UInt8]

    /// The kind as a value of this version, or nil for a string it does not know (the field is as
    /// signed: read from a database or a peer's bytes, so it is checked, not assumed).
    public var entryKind: EntryKind? { EntryKind(rawValue: kind) }
    /// Clock difference allowed between nodes, and between consecutive entries' times.
    public static let timeTolerance: Double = 300

    public static func evidenceID(node: String, index: Int64) -> String {
        let seq = String(index + 1)
        return node + "-" + String(repeating: "0", count: max(0, 6 - seq.count)) + seq
    }

    /// The canonical bytes of an entry: RFC 8785 JSON with the members in this (sorted) order.
    public static func canonicalBody(index: Int64, evidenceID: String, kind: String, time: String, node: String,
                                     caseID: String, officer: String, method: String, note: String?,
                                     artifacts: [Artifact], prevHash: [UInt8]) -> [UInt8] {
        var w = CanonicalJSONWriter(capacity: 384 + artifacts.count * 200)
        w.beginObject()
        w.key("artifacts")
        w.beginArray()
        for a in artifacts {
            w.beginObject()
            w.member("name", a.name)
            w.member("sha256", a.sha256)
            w.member("size", a.size)
            w.member("sm3", a.sm3)
            w.endObject()
        }
        w.endArray()
        w.member("case", caseID)
        w.member("format", format)
        w.member("id", evidenceID)
        w.member("index", index)
        w.member("kind", kind)
        w.member("method", method)
        w.member("node", node)
        if let note { w.member("note", note) }
        w.member("officer", officer)
        w.member("prev", Hex.encode(prevHash))
        w.member("time", time)
        w.endObject()
        return w.bytes
    }

    /// Re-encode from the columns; `verify` compares this with `body`.
    public var recomputedBody: [UInt8] {
        Self.canonicalBody(index: index, evidenceID: evidenceID, kind: kind, time: time, node: node, caseID: caseID,
                           officer: officer, method: method, note: note, artifacts: artifacts, prevHash: prevHash)
    }

    public static let zeroHash = [UInt8](repeating: 0, count: 32)
}
