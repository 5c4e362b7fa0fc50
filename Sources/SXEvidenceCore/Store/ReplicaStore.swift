/// The consortium tables of a ledger database (schema versions 3 and 4, sxevidence-consortium(5)):
/// cosignatures received for this node's checkpoints, checkpoints this node cosigned as a witness,
/// alerts and their acknowledgements, digests of received objects, and who delivered each object.
struct ReplicaStore {
    let db: SQLiteDatabase

    // MARK: cosignatures of this node's checkpoints

    func storeCosignatures(size: Int64, witness: String, lines: [String]) throws {
        try db.writeTransaction {
            let s = try db.statement("INSERT OR IGNORE INTO cosignatures(size, witness, line, created) VALUES (?,?,?,?)")
            for l in lines {
                s.reset()
                s.bind(1, size).bind(2, witness).bind(3, l).bind(4, UTCTime.now())
                try s.run()
            }
        }
    }

    func cosignatureLines(size: Int64) throws -> [String] {
        let s = try db.statement("SELECT line FROM cosignatures WHERE size = ? ORDER BY id")
        s.bind(1, size)
        var out: [String] = []
        while try s.step() { out.append(s.text(0) ?? "") }
        return out
    }

    /// The smallest checkpoint size above `index` for which this node holds `witness`'s cosignature.
    func firstCosignedCheckpoint(after index: Int64, witness: String) throws -> Int64? {
        let s = try db.statement("SELECT MIN(size) FROM cosignatures WHERE size > ? AND witness = ?")
        s.bind(1, index).bind(2, witness)
        defer { s.reset() }
        guard try s.step(), !s.isNull(0) else { return nil }
        return s.int(0)
    }

    // MARK: checkpoints this node cosigned

    static let cosignedColumns = "origin, size, root, note, anchor_idx, created"

    static func readCosigned(_ s: SQLiteStatement) -> CosignedRow {
        CosignedRow(origin: s.text(0) ?? "", size: s.int(1), root: s.blob(2), note: s.text(3) ?? "",
                    anchorIndex: s.isNull(4) ? nil : s.int(4), created: s.text(5) ?? "")
    }

    /// The row of this size, or the latest of the origin when `size` is nil.
    func cosigned(origin: String, size: Int64?) throws -> CosignedRow? {
        let s: SQLiteStatement
        if let size {
            s = try db.statement("SELECT \(Self.cosignedColumns) FROM cosigned WHERE origin = ? AND size = ?")
            s.bind(1, origin).bind(2, size)
        } else {
            s = try db.statement("SELECT \(Self.cosignedColumns) FROM cosigned WHERE origin = ? ORDER BY size DESC LIMIT 1")
            s.bind(1, origin)
        }
        defer { s.reset() }
        guard try s.step() else { return nil }
        return Self.readCosigned(s)
    }

    func allCosigned() throws -> [CosignedRow] {
        let s = try db.statement("SELECT \(Self.cosignedColumns) FROM cosigned ORDER BY id")
        var out: [CosignedRow] = []
        while try s.step() { out.append(Self.readCosigned(s)) }
        return out
    }

    /// Must run inside the write transaction that appends the anchor entry. A row for this origin and
    /// size already there (UNIQUE(origin, size)) is thrown with the cause `AlreadyCosigned`.
    func insertCosigned(origin: String, size: Int64, root: [UInt8], note: String, anchorIndex: Int64?) throws {
        let s = try db.statement("INSERT INTO cosigned(origin, size, root, note, anchor_idx, created) VALUES (?,?,?,?,?,?)")
        s.bind(1, origin).bind(2, size).bind(3, root).bind(4, note)
        if let anchorIndex { s.bind(5, anchorIndex) }
        s.bind(6, UTCTime.now())
        do {
            try s.run()
        } catch let e as EvidenceError where e.cause(as: SQLiteError.self)?.isUniqueViolation == true {
            throw EvidenceError.exists(zh: "检查点 \(origin) 大小 \(size) 已由另一进程联署", en: "checkpoint \(origin) at size \(size) was already cosigned by another process",
                                       cause: AlreadyCosigned(origin: origin, size: size))
        }
    }

    // MARK: alerts

    func recordAlert(node: String, kind: String, detail: String, proof: String?) throws {
        try db.writeTransaction {
            let s = try db.statement("INSERT INTO alerts(node, kind, detail, proof, created) VALUES (?,?,?,?,?)")
            s.bind(1, node).bind(2, kind).bind(3, detail).bind(4, proof).bind(5, UTCTime.now())
            try s.run()
        }
    }

    /// Record that an operator has dealt with an alert (the alert itself stays).
    func acknowledgeAlert(_ id: Int64, note: String) throws {
        try db.writeTransaction {
            let q = try db.statement("SELECT 1 FROM alerts WHERE id = ?")
            q.bind(1, id)
            let found = try q.step()
            q.reset()
            guard found else { throw EvidenceError.notFound(zh: "没有告警 #\(id)", en: "no alert #\(id)") }
            let s = try db.statement("INSERT OR IGNORE INTO alert_acks(alert_id, note, created) VALUES (?,?,?)")
            s.bind(1, id).bind(2, note).bind(3, UTCTime.now())
            try s.run()
        }
    }

    func alerts() throws -> [LedgerAlert] {
        let s = try db.statement("SELECT a.id, a.node, a.kind, a.detail, a.proof, a.created, k.note FROM alerts a LEFT JOIN alert_acks k ON k.alert_id = a.id ORDER BY a.id")
        var out: [LedgerAlert] = []
        while try s.step() {
            out.append(LedgerAlert(id: s.int(0), node: s.text(1) ?? "", kind: s.text(2) ?? "", detail: s.text(3) ?? "",
                                   proof: s.isNull(4) ? nil : s.text(4), created: s.text(5) ?? "", acknowledged: s.isNull(6) ? nil : s.text(6)))
        }
        return out
    }

    // MARK: received objects

    func objectDigest(sha256: String) throws -> (size: Int64, sm3: String)? {
        let s = try db.statement("SELECT size, sm3 FROM object_digests WHERE sha256 = ?")
        s.bind(1, sha256)
        defer { s.reset() }
        guard try s.step() else { return nil }
        return (s.int(0), s.text(1) ?? "")
    }

    func recordObjectDigests(_ list: [(sha256: String, size: Int64, sm3: String)]) throws {
        guard !list.isEmpty else { return }
        try db.writeTransaction {
            let s = try db.statement("INSERT OR IGNORE INTO object_digests(sha256, size, sm3) VALUES (?,?,?)")
            for d in list {
                s.reset()
                s.bind(1, d.sha256).bind(2, d.size).bind(3, d.sm3)
                try s.run()
            }
        }
    }

    func recordHolder(_ digests: [String], node: String) throws {
        guard !digests.isEmpty else { return }
        try db.writeTransaction {
            let s = try db.statement("INSERT OR IGNORE INTO object_holders(sha256, node, created) VALUES (?,?,?)")
            let now = UTCTime.now()
            for d in digests {
                s.reset()
                s.bind(1, d).bind(2, node).bind(3, now)
                try s.run()
            }
        }
    }

    func isHolder(sha256: String, node: String) throws -> Bool {
        let s = try db.statement("SELECT 1 FROM object_holders WHERE sha256 = ? AND node = ?")
        s.bind(1, sha256).bind(2, node)
        defer { s.reset() }
        return try s.step()
    }
}
