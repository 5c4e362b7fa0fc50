import Foundation
import Testing
@testable import SXEvidenceCore

/// Each schema step, run from the schema before it: a database at version 1, 2 or 3 with rows in
/// every table it has is opened by the current code, keeps every row, and ends with exactly the
/// schema of a new database (sqlite_master compared with the sqlite3 command, not through our code).
@Suite struct MigrationTests {
    /// The tables each version adds (LedgerSchema.migrations).
    static let tablesOf: [Int64: [String]] = [
        1: ["entries", "artifacts", "tree", "checkpoints"],
        2: ["timestamps"],
        3: ["cosigned", "cosignatures", "alerts", "object_digests", "alert_acks"],
        4: ["object_holders"],
    ]

    static func sqlite(_ db: String, _ sql: String) throws -> String {
        let r = try runTool(["sqlite3", "-bail", db], stdin: Data(sql.utf8))
        try #require(r.status == 0, "sqlite3 \(db): \(r.err)")
        return r.out
    }

    /// type, name, table and SQL of every schema object (rootpage left out: it depends on the order of creation).
    static func schema(_ db: String) throws -> String {
        try sqlite(db, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name;")
    }

    /// Every row of a table, blobs in hex, in a fixed order.
    static func rows(_ db: String, _ table: String) throws -> String {
        let cols = try sqlite(db, "SELECT name, type FROM pragma_table_info('\(table)');")
            .split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false) }
        let list = cols.map { $0[1] == "BLOB" ? "hex(\($0[0]))" : "quote(\($0[0]))" }.joined(separator: ", ")
        return try sqlite(db, "SELECT \(list) FROM \(table) ORDER BY 1, 2;")
    }

    /// A real ledger (made by the current code) with rows in every table.
    static func source() throws -> (NodeHome, NodeKeys) {
        let home = try LedgerTests.newHome("mig-src")
        let keys = try home.loadKeys()
        try home.ledger.append((0..<5).map { LedgerTests.draft($0) }, sign: keys.sign)
        try home.ledger.recordTimestamp(subject: .checkpoint(size: 5), algorithm: "sha256", digest: [UInt8](repeating: 7, count: 32),
                                        tsa: "http://tsa.invalid/", status: .pending, tokenSHA256: nil, genTime: nil, serial: nil,
                                        policy: nil, offsetMs: nil, error: "unreachable")
        try home.ledger.storeCosignatures(size: 5, witness: "sxevidence.shaoxing/330600", lines: ["— sxevidence.shaoxing/330600 AAAA\n"])
        try home.ledger.store.writeTransaction {
            try home.ledger.insertCosigned(origin: "sxevidence.shaoxing/330681", size: 3, root: [UInt8](repeating: 1, count: 32),
                                           note: "note\n", anchorIndex: 4)
        }
        try home.ledger.recordAlert(node: "330681", kind: "fork", detail: "d", proof: "{}")
        try home.ledger.acknowledgeAlert(1, note: "seen")
        try home.ledger.recordObjectDigests([(String(repeating: "a", count: 64), 1, String(repeating: "b", count: 64))])
        try home.ledger.recordHolder([String(repeating: "a", count: 64)], node: "330681")
        return (home, keys)
    }

    @Test(arguments: [Int64(1), 2, 3])
    func upgradeFrom(_ version: Int64) throws {
        let (home, keys) = try Self.source()
        let src = home.path + "/ledger.db"
        let old = tempDir("mig-v\(version)") + "/ledger.db"
        // The old database: the steps up to `version`, then the rows of the tables it has, copied from the source.
        let steps = LedgerSchema.migrations.filter { $0.version <= version }.map(\.sql).joined(separator: "\n")
        let tables = (1...version).flatMap { Self.tablesOf[$0]! }
        let copy = tables.map { "INSERT INTO main.\($0) SELECT * FROM src.\($0);" }.joined(separator: "\n")
        _ = try Self.sqlite(old, "BEGIN;\n\(steps)\nPRAGMA user_version = \(version);\nCOMMIT;\nATTACH '\(src)' AS src;\n\(copy)\n")
        #expect(try Self.sqlite(old, "PRAGMA user_version;") == "\(version)\n")

        // Opened by the current code: upgraded in place.
        let ledger = try Ledger(path: old, nodeID: home.config.nodeID, origin: home.config.origin)
        #expect(try Self.sqlite(old, "PRAGMA user_version;") == "\(LedgerSchema.current)\n")
        let fresh = tempDir("mig-fresh") + "/ledger.db"
        _ = try Ledger(path: fresh, nodeID: home.config.nodeID, origin: home.config.origin, create: true)
        #expect(try Self.schema(old) == Self.schema(fresh))
        #expect(try Self.schema(old) == Self.schema(src))
        // Every row kept; the tables added by the upgrade are empty.
        for t in tables { #expect(try Self.rows(old, t) == Self.rows(src, t), "\(t) after upgrade from \(version)") }
        for v in (version + 1)...LedgerSchema.current {
            for t in Self.tablesOf[v]! { #expect(try Self.sqlite(old, "SELECT COUNT(*) FROM \(t);") == "0\n") }
        }
        // The upgraded ledger reads and extends as before, and what it signs is consistent with what it held.
        #expect(try ledger.size() == 5)
        #expect(try ledger.entry(index: 4)?.body == home.ledger.entry(index: 4)?.body)
        let (_, cp) = try ledger.append([LedgerTests.draft(5)], sign: keys.sign)
        #expect(cp.size == 6)
        try ledger.recordHolder([String(repeating: "c", count: 64)], node: "330603")
        #expect(try ledger.isHolder(sha256: String(repeating: "c", count: 64), node: "330603"))
        // The append-only triggers still hold on the rows that were carried over (those of the added
        // tables are in the schema compared above).
        for t in tables {
            let r = try runTool(["sqlite3", old, "DELETE FROM \(t);"])
            #expect(r.status != 0 && r.err.contains("append-only"), "\(t): \(r.err)")
        }
    }

    /// A database of a later version, or an empty one opened without creating, is refused untouched.
    @Test func refusesUnknownVersions() throws {
        let future = tempDir("mig-future") + "/ledger.db"
        _ = try Self.sqlite(future, "CREATE TABLE x(a); PRAGMA user_version = \(LedgerSchema.current + 1);")
        #expect { try Ledger(path: future, nodeID: "330603", origin: "o") } throws: { ($0 as? EvidenceError)?.code == .ioError }
        #expect(try Self.sqlite(future, "PRAGMA user_version;") == "\(LedgerSchema.current + 1)\n")
        let empty = tempDir("mig-empty") + "/ledger.db"
        _ = try Self.sqlite(empty, "CREATE TABLE x(a);")   // user_version stays 0
        #expect { try Ledger(path: empty, nodeID: "330603", origin: "o") } throws: { ($0 as? EvidenceError)?.code == .ioError }
    }

    /// The steps are numbered 1, 2, ... with no gap, so `migrate(from:)` runs each exactly once.
    @Test func stepsAreNumberedInOrder() {
        #expect(LedgerSchema.migrations.map(\.version) == Array(1...LedgerSchema.current))
    }
}
