import Foundation
import Testing
@testable import SXEvidenceCore

/// Two connections (as two processes would) cosign the same checkpoint: the second is refused by
/// the `cosigned` row's uniqueness, which is typed (a constraint, not a verification failure), rolls
/// back its anchor, and is answered with the first one's cosignature. A real verification failure
/// in the same place is not taken for that race.
@Suite struct CosignRaceTests {
    static let cityOrigin = NodeConfig.defaultOrigin(nodeID: "330600")

    static func city(_ tag: String, keys k: NodeKeys) throws -> NodeHome {
        let cfg = NodeConfig(nodeID: "330600", name: "绍兴", role: .city, origin: cityOrigin, created: UTCTime.now())
        return try NodeHome.create(at: tempDir(tag) + "/home", config: cfg, keys: (k.ed25519, k.sm2))
    }

    /// A county checkpoint to cosign (signed note and parsed checkpoint) and the county as a member.
    static func countyCheckpoint(_ tag: String) throws -> (String, Checkpoint, ConsortiumPolicy.Member) {
        let k = try ConsortiumTests.keys(ConsortiumTests.countyOrigin)
        let county = try ConsortiumTests.county(tag, keys: k)
        try ConsortiumTests.add(county, k, 3, tag: tag)
        let note = try #require(try county.ledger.checkpoint()).note
        let cp = try Checkpoint.parse(text: try SignedNote.parse(note).text)
        return (note, cp, ConsortiumTests.member(ConsortiumTests.countyID, .county, k))
    }

    /// A city home, two nodes over it (two connections to one ledger.db, as two processes would
    /// have), and a county checkpoint to cosign.
    struct Race {
        let city: NodeKeys, home: NodeHome, a: ConsortiumNode, b: ConsortiumNode
        let note: String, cp: Checkpoint, member: ConsortiumPolicy.Member
    }

    static func race(_ tag: String) throws -> Race {
        let ck = try ConsortiumTests.keys(cityOrigin)
        let home = try city("\(tag)-city", keys: ck)
        let (note, cp, m) = try countyCheckpoint("\(tag)-county")
        return Race(city: ck, home: home, a: ConsortiumNode(home: home, keys: ck), b: ConsortiumNode(home: try NodeHome.open(home.path), keys: ck),
                    note: note, cp: cp, member: m)
    }

    @Test func secondCosignerAdoptsTheFirst() throws {
        let r = try Self.race("race1")
        let (home, a, b, note, cp, m) = (r.home, r.a, r.b, r.note, r.cp, r.member)
        let first = try a.cosign(note: note, checkpoint: cp, member: m)
        #expect(!first.isEmpty)
        let size = try home.ledger.size()

        // The second insert is refused: a unique constraint, typed, and not a verification failure.
        do {
            _ = try b.cosign(note: note, checkpoint: cp, member: m)
            Issue.record("a second cosigned row for the same checkpoint was stored")
        } catch let e as EvidenceError {
            #expect(e.code != .verification)
            #expect(e.cause(as: AlreadyCosigned.self)?.size == cp.size)
            #expect(e.code == .exists)
        }
        // Its anchor entry went with it (one transaction).
        #expect(try b.home.ledger.size() == size)
        // The race as cosignAndAnchor meets it: the first one's cosignature is used.
        #expect(try b.cosignOrAdopt(note: note, checkpoint: cp, member: m) == first)
        #expect(try b.home.ledger.size() == size)
        #expect(try home.ledger.allCosigned().count == 1)
    }

    @Test func verificationFailureIsNotTakenForTheRace() throws {
        let r = try Self.race("race2")
        let (ck, home, a, b, note, cp, m) = (r.city, r.home, r.a, r.b, r.note, r.cp, r.member)
        // Give the city a tree with inner nodes, then cosign once (the row the old reading would find).
        try home.ledger.append((0..<3).map { LedgerTests.draft($0) }, sign: ck.sign)
        _ = try a.cosign(note: note, checkpoint: cp, member: m)
        // Forge the city's tree below the API: its next signature must be refused (a verification failure).
        try home.ledger.store.db.exec("DROP TRIGGER tree_no_update; UPDATE tree SET hash = zeroblob(32)")
        #expect { try b.cosignOrAdopt(note: note, checkpoint: cp, member: m) } throws: { ($0 as? EvidenceError)?.code == .verification }
    }

    /// A constraint violation anywhere in the ledger is typed and reported as an I/O-class error (74),
    /// never as a verification failure.
    @Test func constraintIsTypedAndNotVerification() throws {
        let home = try LedgerTests.newHome("race-trigger")
        do {
            try home.ledger.store.db.exec("DELETE FROM checkpoints")
            Issue.record("the append-only trigger let a DELETE through")
        } catch let e as EvidenceError {
            #expect(e.code == .ioError)
            let c = try #require(e.cause(as: SQLiteError.self))
            #expect(c.kind == .constraint && !c.isUniqueViolation)
            #expect(!e.zh.isEmpty && !e.en.isEmpty)
        }
    }
}
