import Foundation
internal import CSXSQLite

/// Owns one sqlite3 connection. Statements are cached by SQL text. Lives in Store/ and is used only
/// there: nothing outside Store/ holds a connection or writes SQL (see LedgerSchema for the map).
/// Used by one thread at a time (verify hands each range its own connection). A failure is thrown as
/// an `EvidenceError` whose `cause` is the typed `SQLiteError`.
final class SQLiteDatabase {
    let handle: OpaquePointer
    let path: String
    /// The file opened (device and inode), to notice a database replaced under a long-running process.
    let identity: (dev: UInt64, ino: UInt64)
    private var cache: [String: SQLiteStatement] = [:]

    static func fileIdentity(_ path: String) -> (dev: UInt64, ino: UInt64)? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// Whether the path still names the file this connection opened (not replaced, not a link).
    var stillAtPath: Bool {
        guard let now = Self.fileIdentity(path) else { return false }
        return now == identity
    }

    init(path: String, create: Bool) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "open failed"
            sqlite3_close(db)
            throw SQLiteDatabase.error(rc, msg, path)
        }
        handle = db
        self.path = path
        identity = Self.fileIdentity(path) ?? (0, 0)
        sqlite3_busy_timeout(db, 30_000)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    /// A failure as the library reports it: an `EvidenceError` whose cause is the typed `SQLiteError`.
    static func error(_ rc: Int32, _ msg: String, _ path: String) -> EvidenceError {
        SQLiteError(code: rc, message: msg, path: path).evidenceError
    }

    func fail(_ rc: Int32) -> EvidenceError {
        SQLiteDatabase.error(rc, String(cString: sqlite3_errmsg(handle)), path)
    }

    /// Release every cached statement's hold on the database.
    func resetAll() {
        for s in cache.values { s.reset() }
    }

    func exec(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? ""
            sqlite3_free(err)
            throw SQLiteDatabase.error(rc, msg, path)
        }
    }

    func statement(_ sql: String) throws -> SQLiteStatement {
        if let s = cache[sql] {
            s.reset()
            return s
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw fail(rc) }
        let s = SQLiteStatement(stmt, db: self)
        cache[sql] = s
        return s
    }

    /// Run `body` in a write transaction taken up front (BEGIN IMMEDIATE), so that concurrent
    /// appenders queue on the database lock in a well-defined order instead of failing.
    func writeTransaction<T>(_ body: () throws -> T) throws -> T {
        // A stepped-but-unreset SELECT keeps a read snapshot open; upgrading it to a write fails with
        // SQLITE_BUSY at once (no busy wait) when another process has committed since.
        resetAll()
        try exec("BEGIN IMMEDIATE")
        do {
            let v = try body()
            try exec("COMMIT")
            return v
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }

    func readTransaction<T>(_ body: () throws -> T) throws -> T {
        resetAll()
        try exec("BEGIN")
        defer { try? exec("COMMIT") }
        return try body()
    }
}

/// A prepared statement; column and bind indexes are 1-based for binds, 0-based for columns, as in SQLite.
final class SQLiteStatement {
    let stmt: OpaquePointer
    unowned let db: SQLiteDatabase

    init(_ stmt: OpaquePointer, db: SQLiteDatabase) {
        self.stmt = stmt
        self.db = db
    }

    deinit { sqlite3_finalize(stmt) }

    func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    @discardableResult
    func bind(_ i: Int32, _ v: Int64) -> SQLiteStatement { sqlite3_bind_int64(stmt, i, v); return self }

    @discardableResult
    func bind(_ i: Int32, _ v: String?) -> SQLiteStatement {
        if let v {
            var v = v
            _ = v.withUTF8 { b in
                b.withMemoryRebound(to: CChar.self) { sx_sqlite3_bind_text_copy(stmt, i, $0.baseAddress, Int32(b.count)) }
            }
        } else {
            sqlite3_bind_null(stmt, i)
        }
        return self
    }

    @discardableResult
    func bind(_ i: Int32, _ v: [UInt8]) -> SQLiteStatement {
        _ = v.withUnsafeBytes { sx_sqlite3_bind_blob_copy(stmt, i, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(v.count)) }
        return self
    }

    /// Step once; true while a row is available.
    func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw db.fail(rc)
    }

    func run() throws { while try step() {} }

    func int(_ c: Int32) -> Int64 { sqlite3_column_int64(stmt, c) }
    func isNull(_ c: Int32) -> Bool { sqlite3_column_type(stmt, c) == SQLITE_NULL }

    func text(_ c: Int32) -> String? {
        guard let p = sqlite3_column_text(stmt, c) else { return nil }
        let n = Int(sqlite3_column_bytes(stmt, c))
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    func blob(_ c: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(stmt, c))
        guard n > 0, let p = sqlite3_column_blob(stmt, c) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: p, count: n))
    }
}
