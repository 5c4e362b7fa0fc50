/// Rows of `timestamps`: one per attempt to obtain an RFC 3161 token, append-only; the latest row of
/// a (subject, algorithm, TSA) counts, a granted one before any later failure (sxevidence-timestamp(5)).
struct TimestampStore {
    let db: SQLiteDatabase

    func record(subject: TimestampSubject, algorithm: String, digest: [UInt8], tsa: String, status: TimestampStatus,
                tokenSHA256: String?, genTime: String?, serial: String?, policy: String?, offsetMs: Int64?, error: String?) throws {
        try db.writeTransaction {
            let s = try db.statement("INSERT INTO timestamps(subject, algorithm, digest, tsa_url, status, token_sha256, gen_time, serial, policy, offset_ms, error, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
            s.bind(1, subject.rawValue).bind(2, algorithm).bind(3, digest).bind(4, tsa).bind(5, status.rawValue).bind(6, tokenSHA256)
                .bind(7, genTime).bind(8, serial).bind(9, policy)
            if let offsetMs { s.bind(10, offsetMs) }
            s.bind(11, error).bind(12, UTCTime.now())
            try s.run()
        }
    }

    /// For each (subject, algorithm, TSA): the latest granted row, or the latest attempt when none was
    /// granted (a later failed attempt does not hide a token already obtained).
    func latest() throws -> [TimestampRow] {
        let s = try db.statement("""
            SELECT id, subject, algorithm, digest, tsa_url, status, token_sha256, gen_time, serial, error FROM timestamps
            WHERE id IN (
              SELECT COALESCE(MAX(CASE WHEN status = 'granted' THEN id END), MAX(id))
              FROM timestamps GROUP BY subject, algorithm, tsa_url) ORDER BY id
            """)
        var out: [TimestampRow] = []
        while try s.step() {
            // A status this version does not write is not a grant.
            out.append(TimestampRow(id: s.int(0), subject: TimestampSubject(rawValue: s.text(1) ?? ""), algorithm: s.text(2) ?? "",
                                    digest: s.blob(3), tsaURL: s.text(4) ?? "",
                                    status: TimestampStatus(rawValue: s.text(5) ?? "") ?? .pending,
                                    tokenSHA256: s.isNull(6) ? nil : s.text(6), genTime: s.text(7), serial: s.text(8), error: s.text(9)))
        }
        return out
    }

    /// The smallest checkpoint size above `index` with a granted time stamp.
    func firstStampedCheckpoint(after index: Int64) throws -> Int64? {
        let s = try db.statement("SELECT subject FROM timestamps WHERE status = 'granted' AND subject LIKE 'checkpoint:%'")
        var best: Int64?
        while try s.step() {
            if let n = TimestampSubject(rawValue: s.text(0) ?? "").checkpointSize, n > index, best == nil || n < best! { best = n }
        }
        return best
    }
}
