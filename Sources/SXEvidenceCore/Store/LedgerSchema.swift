/// The ledger database's schema, as numbered migration steps (sxevidence-ledger(5), LEDGER DATABASE;
/// sxevidence-timestamp(5) and sxevidence-consortium(5) for the later tables).
///
/// Store/ is the storage boundary: every SQL statement of the node lives in this folder, and nothing
/// outside it holds a `SQLiteDatabase`. The files, one concern each:
///
///     SQLiteDatabase, SQLiteStatement, SQLiteError   the connection, statements, typed failures
///     LedgerSchema (this file)                       tables, triggers, the migration steps
///     LedgerStore                                    opens ledger.db, migrates, transactions
///     EntryStore, TreeStore, CheckpointStore         entries + artifacts, tree nodes, checkpoints
///     TimestampStore                                 RFC 3161 attempts and tokens
///     ReplicaStore                                   cosigned, cosignatures, alerts, object digests, holders
///     NonceStore                                     nonces.db (request nonces seen by a server)
///
/// Adding a table (a search index, annotations, officers, an audit log, tasks): write its CREATE
/// statements as a new constant `v5` here (with `appendOnly([...])` unless rows may change, and say
/// why in the comment if they may), append `Migration(version: 5, sql: v5)` to `migrations`, add a
/// step test in Tests/SXEvidenceCoreTests/MigrationTests.swift (from the v4 fixture, data kept), put
/// its queries in a new `<Concern>Store.swift` beside the others, and document the table in the man
/// page of its format in the same commit. Never edit an existing step: databases in the field ran it.
enum LedgerSchema {
    /// One numbered step: the SQL that takes a database from `version - 1` to `version`.
    struct Migration {
        let version: Int64
        let sql: String
    }

    /// Every step, in order. A new database runs them all; an older one the steps above its
    /// `PRAGMA user_version`; all in one write transaction, each followed by setting user_version,
    /// so a failed upgrade leaves the database as it was. Steps only add; none changes a table.
    static let migrations: [Migration] = [
        Migration(version: 1, sql: v1),     // entries, artifacts, tree, checkpoints (sxevidence-ledger(5))
        Migration(version: 2, sql: v2),     // timestamps (sxevidence-timestamp(5))
        Migration(version: 3, sql: v3),     // cosigned, cosignatures, alerts, object_digests, alert_acks
        Migration(version: 4, sql: v4),     // object_holders (sxevidence-consortium(5), ACCESS)
    ]

    /// The version this code writes and the only one it opens without upgrading.
    static var current: Int64 { migrations[migrations.count - 1].version }

    /// Apply the steps above `from`; the caller holds a write transaction.
    static func migrate(_ db: SQLiteDatabase, from: Int64) throws {
        for step in migrations where step.version > from {
            try db.exec(step.sql)
            try db.exec("PRAGMA user_version = \(step.version)")
        }
    }

    /// Triggers that refuse UPDATE and DELETE on each table.
    static func appendOnly(_ tables: [String]) -> String {
        tables.map { t in """
        CREATE TRIGGER \(t)_no_update BEFORE UPDATE ON \(t) BEGIN SELECT RAISE(ABORT, 'sxevidence ledger is append-only'); END;
        CREATE TRIGGER \(t)_no_delete BEFORE DELETE ON \(t) BEGIN SELECT RAISE(ABORT, 'sxevidence ledger is append-only'); END;
        """ }.joined(separator: "\n")
    }

    static let v1 = """
    CREATE TABLE entries(
      idx INTEGER PRIMARY KEY,
      evidence_id TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      time TEXT NOT NULL,
      node TEXT NOT NULL,
      case_id TEXT NOT NULL,
      officer TEXT NOT NULL,
      method TEXT NOT NULL,
      note TEXT,
      prev_hash BLOB NOT NULL,
      leaf_hash BLOB NOT NULL,
      body BLOB NOT NULL);
    CREATE INDEX entries_case ON entries(case_id);
    CREATE TABLE artifacts(
      entry_idx INTEGER NOT NULL,
      pos INTEGER NOT NULL,
      name TEXT NOT NULL,
      size INTEGER NOT NULL,
      sha256 TEXT NOT NULL,
      sm3 TEXT NOT NULL,
      PRIMARY KEY(entry_idx, pos)) WITHOUT ROWID;
    CREATE TABLE tree(id INTEGER PRIMARY KEY, hash BLOB NOT NULL);
    CREATE TABLE checkpoints(size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL, created TEXT NOT NULL);
    \(appendOnly(["entries", "artifacts", "tree", "checkpoints"]))
    """

    static let v2 = """
    CREATE TABLE timestamps(
      id INTEGER PRIMARY KEY,
      subject TEXT NOT NULL,
      algorithm TEXT NOT NULL,
      digest BLOB NOT NULL,
      tsa_url TEXT NOT NULL,
      status TEXT NOT NULL,
      token_sha256 TEXT,
      gen_time TEXT,
      serial TEXT,
      policy TEXT,
      offset_ms INTEGER,
      error TEXT,
      created TEXT NOT NULL);
    CREATE INDEX timestamps_subject ON timestamps(subject);
    \(appendOnly(["timestamps"]))
    """

    /// Consortium state (sxevidence-consortium(5)): cosignatures this node made as a witness, those it
    /// received for its own checkpoints, alerts (fork proofs), and the digests of objects received.
    static let v3 = """
    CREATE TABLE cosigned(
      id INTEGER PRIMARY KEY,
      origin TEXT NOT NULL,
      size INTEGER NOT NULL,
      root BLOB NOT NULL,
      note TEXT NOT NULL,
      anchor_idx INTEGER,
      created TEXT NOT NULL,
      UNIQUE(origin, size));
    CREATE TABLE cosignatures(
      id INTEGER PRIMARY KEY,
      size INTEGER NOT NULL,
      witness TEXT NOT NULL,
      line TEXT NOT NULL,
      created TEXT NOT NULL,
      UNIQUE(size, line));
    CREATE TABLE alerts(
      id INTEGER PRIMARY KEY,
      node TEXT NOT NULL,
      kind TEXT NOT NULL,
      detail TEXT NOT NULL,
      proof TEXT,
      created TEXT NOT NULL);
    CREATE TABLE object_digests(sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, sm3 TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE alert_acks(
      id INTEGER PRIMARY KEY,
      alert_id INTEGER NOT NULL UNIQUE,
      note TEXT NOT NULL,
      created TEXT NOT NULL);
    CREATE INDEX artifacts_sha256 ON artifacts(sha256);
    \(appendOnly(["cosigned", "cosignatures", "alerts", "object_digests", "alert_acks"]))
    """

    /// Which member delivered each received object (sxevidence-consortium(5), ACCESS): the
    /// uploader whose own entry names it with that size and SM3, or the member it was pulled from.
    static let v4 = """
    CREATE TABLE object_holders(sha256 TEXT NOT NULL, node TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY(sha256, node)) WITHOUT ROWID;
    \(appendOnly(["object_holders"]))
    """
}
