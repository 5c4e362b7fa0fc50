/// The outcome recorded for one attempt to obtain a time-stamp token (timestamps.status,
/// sxevidence-timestamp(5)); the raw values are the stored strings.
public enum TimestampStatus: String, Sendable, CaseIterable, Codable {
    /// A token was obtained, verified and stored.
    case granted
    /// The TSA could not be reached or its answer did not verify; `timestamp --pending` asks again.
    case pending
}
