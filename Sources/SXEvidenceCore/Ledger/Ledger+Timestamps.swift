/// The time-stamp rows of a ledger (TimestampStore in Store/, sxevidence-timestamp(5)).
extension Ledger {
    /// The row type's earlier name (it lives in Store/ now).
    public typealias TimestampRow = SXEvidenceCore.TimestampRow

    public func recordTimestamp(subject: TimestampSubject, algorithm: String, digest: [UInt8], tsa: String, status: TimestampStatus,
                                tokenSHA256: String?, genTime: String?, serial: String?, policy: String?, offsetMs: Int64?,
                                error: String?) throws {
        try store.timestamps.record(subject: subject, algorithm: algorithm, digest: digest, tsa: tsa, status: status,
                                    tokenSHA256: tokenSHA256, genTime: genTime, serial: serial, policy: policy,
                                    offsetMs: offsetMs, error: error)
    }

    /// For each (subject, algorithm, TSA): the latest granted row, or the latest attempt when none was
    /// granted (a later failed attempt does not hide a token already obtained).
    public func latestTimestamps() throws -> [TimestampRow] { try store.timestamps.latest() }

    /// The smallest checkpoint size above `index` with a granted time stamp.
    public func firstStampedCheckpoint(after index: Int64) throws -> Int64? {
        try store.timestamps.firstStampedCheckpoint(after: index)
    }

    /// The granted tokens of one subject (one per algorithm and TSA).
    public func grantedTimestamps(subject: TimestampSubject) throws -> [TimestampRow] {
        try latestTimestamps().filter { $0.subject == subject && $0.status == .granted && $0.tokenSHA256 != nil }
    }
}
