/// What a time stamp covers (timestamps.subject, sxevidence-timestamp(5)); `rawValue` is the stored
/// string: `checkpoint:<size>`, `file:<name>`, `manifest:<evidence ID>`. A stored string of none of
/// these forms (not written by this version) is kept as it is in `other`.
public enum TimestampSubject: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    /// The signed note of the checkpoint of this size (digest over the note's bytes).
    case checkpoint(size: Int64)
    /// A file, by its base name.
    case file(name: String)
    /// A web capture's manifest, by the entry's evidence ID.
    case manifest(evidenceID: String)
    case other(String)

    public init(rawValue: String) {
        if rawValue.hasPrefix("checkpoint:"), let n = Int64(rawValue.dropFirst("checkpoint:".count)), n >= 0,
           "checkpoint:\(n)" == rawValue {
            self = .checkpoint(size: n)
        } else if rawValue.hasPrefix("file:") {
            self = .file(name: String(rawValue.dropFirst("file:".count)))
        } else if rawValue.hasPrefix("manifest:") {
            self = .manifest(evidenceID: String(rawValue.dropFirst("manifest:".count)))
        } else {
            self = .other(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .checkpoint(let n): return "checkpoint:\(n)"
        case .file(let name): return "file:\(name)"
        case .manifest(let id): return "manifest:\(id)"
        case .other(let s): return s
        }
    }

    public var description: String { rawValue }

    /// The checkpoint size, for a checkpoint subject.
    public var checkpointSize: Int64? {
        if case .checkpoint(let n) = self { return n }
        return nil
    }
}
