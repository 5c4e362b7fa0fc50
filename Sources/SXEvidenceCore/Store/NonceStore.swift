/// `nonces.db` in a node home (sxevidence-consortium(5), FILES): table seen(node, nonce, time) of the
/// request nonces a server accepted. Not a ledger (rows are pruned), so it has no migrations: its
/// one table is created if absent. Used by one thread at a time (NonceCache serializes).
final class NonceStore {
    private let db: SQLiteDatabase
    private var lastPrune: Int64 = 0

    init(path: String) throws {
        db = try SQLiteDatabase(path: path, create: true)
        try db.exec("PRAGMA journal_mode=WAL")
        try db.exec("PRAGMA synchronous=NORMAL")
        try db.exec("CREATE TABLE IF NOT EXISTS seen(node TEXT NOT NULL, nonce TEXT NOT NULL, time INTEGER NOT NULL, PRIMARY KEY(node, nonce))")
        try db.exec("CREATE INDEX IF NOT EXISTS seen_time ON seen(time)")
    }

    /// Record the nonce; false when it was already seen. Rows with a time before `pruneBefore` are
    /// deleted first, at most once a minute of `now`.
    func insert(node: String, nonce: String, time: Int64, now: Int64, pruneBefore: Int64) throws -> Bool {
        try db.writeTransaction {
            if now - lastPrune >= 60 {
                try db.statement("DELETE FROM seen WHERE time < ?1").bind(1, pruneBefore).run()
                lastPrune = now
            }
            let q = try db.statement("SELECT 1 FROM seen WHERE node = ?1 AND nonce = ?2").bind(1, node).bind(2, nonce)
            let seen = try q.step()
            q.reset()
            if seen { return false }
            try db.statement("INSERT INTO seen(node, nonce, time) VALUES (?1, ?2, ?3)").bind(1, node).bind(2, nonce).bind(3, time).run()
            return true
        }
    }
}
