/// The kinds of entry this version writes and accepts (sxevidence-ledger(5), ENTRY); the raw values
/// are the strings in the canonical body and the `kind` column.
public enum EntryKind: String, Sendable, CaseIterable, Codable {
    /// Files added with `add`.
    case file
    /// A web capture (WARC, manifest, environment record).
    case web
    /// A livestream capture.
    case live
    /// A witness's anchor of another member's cosigned checkpoint.
    case anchor

    /// "file|web|live|anchor", for messages.
    public static var list: String { allCases.map(\.rawValue).joined(separator: "|") }
}
