import Foundation

/// The ledger database of one log (a node's own ledger.db, or a replica's): opens it (WAL,
/// synchronous=FULL), brings its schema to `LedgerSchema.current` through the numbered steps, and
/// hands out the per-concern stores over its one connection. The `Ledger` holds one; nothing else
/// outside Store/ sees the connection.
final class LedgerStore {
    let db: SQLiteDatabase

    var entries: EntryStore { EntryStore(db: db) }
    var tree: TreeStore { TreeStore(db: db) }
    var checkpoints: CheckpointStore { CheckpointStore(db: db) }
    var timestamps: TimestampStore { TimestampStore(db: db) }
    var replica: ReplicaStore { ReplicaStore(db: db) }

    var path: String { db.path }
    /// Whether the path still names the file this connection opened (not replaced, not a link).
    var stillAtPath: Bool { db.stillAtPath }

    init(path: String, create: Bool) throws {
        if !create && !POSIXFile.exists(path) {
            throw EvidenceError.notFound(zh: "找不到账本数据库：\(path)", en: "ledger database not found: \(path)")
        }
        db = try SQLiteDatabase(path: path, create: create)
        do {
            try db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        } catch let e as EvidenceError {
            // Say why when the home cannot be written at all (a read-only mount, say).
            let dir = POSIXFile.parent(path)
            if access(dir, W_OK) != 0 { throw POSIXFile.ioError(zh: "节点目录不可写", en: "node home is not writable", dir) }
            throw e
        }
        let version = try db.statement("PRAGMA user_version")
        _ = try version.step()
        let v = version.int(0)
        version.reset()
        // A new database (version 0) only when asked to create one; versions 1 to current - 1 are
        // upgraded in place; anything else is refused.
        guard (v == 0 && create) || (v >= 1 && v <= LedgerSchema.current) else {
            throw EvidenceError.ioError(zh: "账本数据库版本不符（\(v)）：\(path)", en: "unexpected ledger schema version \(v): \(path)")
        }
        if v < LedgerSchema.current {
            try db.writeTransaction { try LedgerSchema.migrate(db, from: v) }
        }
    }

    /// Another connection to an open ledger's file, for reading in parallel (verify's ranges); no
    /// pragma or migration is run: the ledger's own connection did.
    private init(readerAt path: String) throws {
        db = try SQLiteDatabase(path: path, create: false)
    }

    static func reader(path: String) throws -> LedgerStore { try LedgerStore(readerAt: path) }

    /// Drop read snapshots held by finished statements (a long-running server sees later commits).
    func resetAll() { db.resetAll() }

    /// BEGIN IMMEDIATE ... COMMIT (ROLLBACK when `body` throws).
    func writeTransaction<T>(_ body: () throws -> T) throws -> T { try db.writeTransaction(body) }

    /// One read snapshot around `body`.
    func readTransaction<T>(_ body: () throws -> T) throws -> T { try db.readTransaction(body) }
}
