internal import CSXSQLite

/// A failed SQLite call, typed: the (extended) result code, what kind of failure it is, SQLite's
/// message and the database file. Thrown inside Store/ and carried out of it as the `cause` of an
/// `EvidenceError` (see `evidenceError`), so callers outside can ask `error.cause(as: SQLiteError.self)`.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case constraint     // a UNIQUE, PRIMARY KEY, NOT NULL or CHECK constraint, or a trigger's RAISE
        case busy           // the database stayed locked past the busy timeout
        case corrupt        // not a database, or a damaged one
        case full           // the disk is full
        case readOnly       // read-only file or mount, permission denied, cannot open
        case io             // an I/O error underneath
        case other
    }

    /// The extended result code (e.g. SQLITE_CONSTRAINT_UNIQUE = 2067).
    public let code: Int32
    public let message: String
    public let path: String

    /// The primary result code (the low 8 bits).
    public var primary: Int32 { code & 0xff }

    public var kind: Kind {
        switch primary {
        case SQLITE_CONSTRAINT: return .constraint
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_CORRUPT, SQLITE_NOTADB: return .corrupt
        case SQLITE_FULL: return .full
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM: return .readOnly
        case SQLITE_IOERR: return .io
        default: return .other
        }
    }

    /// A UNIQUE or PRIMARY KEY violation: the row exists already (another writer was first).
    public var isUniqueViolation: Bool {
        code == Self.constraintUnique || code == Self.constraintPrimaryKey
    }

    /// SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY (SQLITE_CONSTRAINT | 8 << 8, | 6 << 8).
    static let constraintUnique: Int32 = 2067
    static let constraintPrimaryKey: Int32 = 1555

    public var description: String { "SQLite error \(code) (\(kind.rawValue)) on \(path): \(message)" }

    /// The error as the rest of the library reports it; a constraint violation is an I/O-class error
    /// (exit 74), never a verification failure: that it happened says nothing about evidence.
    public var evidenceError: EvidenceError {
        switch kind {
        case .corrupt:
            return .ioError(zh: "账本数据库已损坏：\(path)（\(message)）", en: "ledger database is corrupt: \(path) (\(message))", cause: self)
        case .full:
            return .ioError(zh: "磁盘已满，未写入任何内容：\(path)", en: "disk full, nothing was written: \(path)", cause: self)
        case .readOnly, .io:
            return .ioError(zh: "账本数据库输入输出错误：\(path)（\(message)）", en: "ledger database I/O error: \(path) (\(message))", cause: self)
        case .constraint:
            return .ioError(zh: "账本拒绝了此操作：\(message)", en: "the ledger refused the change: \(message)", cause: self)
        case .busy:
            return .ioError(zh: "账本数据库忙（被其他进程锁定）：\(path)", en: "ledger database is busy (locked by another process): \(path)", cause: self)
        case .other:
            return .ioError(zh: "账本数据库错误：\(path)（\(message)）", en: "ledger database error: \(path) (\(message))", cause: self)
        }
    }
}
