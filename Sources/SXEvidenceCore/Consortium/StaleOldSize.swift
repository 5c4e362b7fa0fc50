/// The sender's batch starts beyond the size we hold: ask again (tlog-witness's 409 with the size).
/// Thrown as the cause of an `EvidenceError` (`.unavailable`); read it with `error.cause(as: StaleOldSize.self)`.
public struct StaleOldSize: Error, Sendable {
    public let held: Int64

    /// The error to throw: this as its cause.
    public var asError: EvidenceError {
        .unavailable(zh: "对方持有 \(held) 条，与本批次起点不符；请重试", en: "the peer holds \(held) entries, not where this batch starts; try again",
                     cause: self)
    }
}
