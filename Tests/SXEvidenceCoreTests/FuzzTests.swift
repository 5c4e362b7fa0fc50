import Foundation
import Testing
@testable import SXEvidenceCore

/// Seeded random mutation of valid inputs fed to the parsers and verifiers that take bytes from
/// other nodes. A trap (overflow, out-of-range index) kills the test process: that is the failure.
/// Each fuzzer runs at most `budget` seconds and `iterations` rounds, from a fixed seed.
@Suite(.temporaryFolders) struct FuzzTests {
    static let budget: TimeInterval = 8
    static let iterations = 3_000
    static let huge = ["9223372036854775807", "-9223372036854775808", "18446744073709551615", "-1", "9007199254740993", "0"]

    /// SplitMix64, so a run is reproducible from its seed.
    struct RNG: RandomNumberGenerator {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// One mutation: byte flip, truncation, insertion, or a numeric field replaced by an extreme integer.
    static func mutate(_ input: [UInt8], _ r: inout RNG) -> [UInt8] {
        var b = input
        switch Int.random(in: 0..<4, using: &r) {
        case 0 where !b.isEmpty:
            for _ in 0..<Int.random(in: 1...4, using: &r) { b[Int.random(in: 0..<b.count, using: &r)] ^= UInt8.random(in: 1...255, using: &r) }
        case 1 where !b.isEmpty:
            b = Array(b.prefix(Int.random(in: 0..<b.count, using: &r)))
        case 2:
            let at = Int.random(in: 0...b.count, using: &r)
            b.insert(contentsOf: Array(huge.randomElement(using: &r)!.utf8), at: at)
        default:
            // Replace a run of digits (a numeric field) with an extreme value.
            let runs = digitRuns(b)
            if let run = runs.randomElement(using: &r) { b.replaceSubrange(run, with: Array(huge.randomElement(using: &r)!.utf8)) }
        }
        return b
    }

    static func digitRuns(_ b: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        while i < b.count {
            if b[i] >= 0x30 && b[i] <= 0x39 || b[i] == 0x2D {
                let s = i
                while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 || b[i] == 0x2D { i += 1 }
                out.append(s..<i)
            } else { i += 1 }
        }
        return out
    }

    static func rounds(_ seed: UInt64, _ body: (inout RNG) throws -> Void) rethrows {
        var r = RNG(s: seed)
        let deadline = Date().addingTimeInterval(budget)
        for _ in 0..<iterations where Date() < deadline { try body(&r) }
    }

    // MARK: the two crashes the outside attack found

    /// A member signing SX-Time -9223372036854775808 (or Int64.max) is refused as stale, not a trap.
    @Test func extremeRequestTimesAreStale() throws {
        let county = try ConsortiumTests.keys(ConsortiumTests.countyOrigin)
        let city = try ConsortiumTests.keys("sxevidence.shaoxing/330600")
        let p = ConsortiumPolicy(version: 1, city: "330600", created: "", members: [ConsortiumTests.member("330600", .city, city), ConsortiumTests.member(ConsortiumTests.countyID, .county, county)], cosigners: ["330600"])
        let digest = Hex.encode(Hashing.sha256([]))
        for t in [Int64.min, Int64.min + 1, -1, Int64.max, Int64.max - 1, RequestAuth.maxTime + 1] {
            let h = try RequestAuth.sign(method: "GET", target: "/v1/x", bodySHA256: digest, node: ConsortiumTests.countyID, to: "330600", authority: "city:1", key: county.ed25519, now: t)
            let r = RequestAuth.check(method: "GET", target: "/v1/x", bodySHA256: digest, header: { n in h.first { $0.0 == n }?.1 },
                                      policy: p, nonces: NonceCache(), selfNode: "330600", authority: "city:1", now: 1_800_000_000)
            guard case .failure(.stale) = r else { Issue.record("time \(t): \(r)"); continue }
        }
    }

    /// A batch starting at Int64.max is refused by the parser, before `start + count` is computed.
    @Test func batchStartNearInt64MaxRefused() throws {
        let (_, home, rep, verifiers) = try ConsortiumTests.replicaFixture("fuzz-start", entries: 2)
        let b = try #require(try home.ledger.batch(old: 0, max: 2))
        for (field, v) in [("start", "9223372036854775807"), ("start", "9007199254740992"), ("old", "9223372036854775807")] {
            let text = String(decoding: b.serialized, as: UTF8.self)
                .replacingOccurrences(of: "\n\(field) \(field == "start" ? b.start : b.old)\n", with: "\n\(field) \(v)\n")
            let e = #expect(throws: EvidenceError.self, "\(field) \(v)") { try EntryBatch.parse(Array(text.utf8)) }
            #expect(e?.code == .dataError, "\(field) \(v): \(String(describing: e))")
            // What a receiver does with a parsed batch (this trapped on `start + count` before the parser bound).
            if let parsed = try? EntryBatch.parse(Array(text.utf8)) { _ = try? rep.applyBatch(parsed, verifiers: verifiers, detectedBy: "330600") { _ in } }
        }
    }

    // MARK: fuzzers

    @Test func fuzzRequestHeaders() throws {
        let county = try ConsortiumTests.keys(ConsortiumTests.countyOrigin)
        let city = try ConsortiumTests.keys("sxevidence.shaoxing/330600")
        let p = ConsortiumPolicy(version: 1, city: "330600", created: "", members: [ConsortiumTests.member("330600", .city, city), ConsortiumTests.member(ConsortiumTests.countyID, .county, county)], cosigners: ["330600"])
        let digest = Hex.encode(Hashing.sha256([]))
        let now: Int64 = 1_800_000_000
        let cache = NonceCache()
        try Self.rounds(1) { r in
            // Sign a time that is itself extreme half the time, so the skew arithmetic is reached.
            let t: Int64 = Bool.random(using: &r) ? now : [Int64.min, Int64.max, -1, now + 301, now - 301].randomElement(using: &r)!
            var h = try RequestAuth.sign(method: "GET", target: "/v1/x", bodySHA256: digest, node: ConsortiumTests.countyID, to: "330600", authority: "city:1", key: county.ed25519, now: t)
            let i = Int.random(in: 0..<h.count, using: &r)
            if Bool.random(using: &r) { h[i].1 = String(decoding: Self.mutate(Array(h[i].1.utf8), &r), as: UTF8.self) }
            _ = RequestAuth.check(method: "GET", target: "/v1/x", bodySHA256: digest, header: { n in h.first { $0.0 == n }?.1 },
                                  policy: p, nonces: cache, selfNode: "330600", authority: "city:1", now: now)
        }
    }

    @Test func fuzzEntryBatchAndApply() throws {
        let (_, home, rep, v) = try ConsortiumTests.replicaFixture("fuzz-batch", entries: 5)
        let seeds = [try #require(try home.ledger.batch(old: 0, max: 5)).serialized, try #require(try home.ledger.batch(old: 2, max: 5)).serialized]
        try Self.rounds(2) { r in
            let bytes = Self.mutate(seeds.randomElement(using: &r)!, &r)
            guard let b = try? EntryBatch.parse(bytes) else { return }
            #expect(b.start >= 0 && b.old >= 0 && b.end <= EntryBatch.maxSize && b.old <= b.end)
            _ = try? rep.applyBatch(b, verifiers: v, detectedBy: "330600") { _ in }
        }
    }

    @Test func fuzzPolicy() throws {
        let city = try ConsortiumTests.keys("sxevidence.shaoxing/330600")
        let county = try ConsortiumTests.keys(ConsortiumTests.countyOrigin)
        let p = ConsortiumPolicy(version: 3, city: "330600", created: "2026-01-01T00:00:00Z", members: [ConsortiumTests.member("330600", .city, city), ConsortiumTests.member(ConsortiumTests.countyID, .county, county)], cosigners: ["330600"])
        let signed = try p.signed(with: city).serialized
        let text = Array(p.text.utf8)
        try Self.rounds(3) { r in
            let m = String(decoding: Self.mutate(text, &r), as: UTF8.self)
            _ = try? ConsortiumPolicy.verify(String(decoding: Self.mutate(Array(signed.utf8), &r), as: UTF8.self))
            if let q = try? ConsortiumPolicy.parse(text: m) { #expect(q.version >= 1) }
            _ = try? ConsortiumPolicy.verify(m)
        }
    }

    @Test func fuzzTlogProofAndMerkle() throws {
        let h = MerkleHasher()
        let leaves = (0..<13).map { h.leaf([UInt8($0)]) }
        let b = MerkleProofBuilder(source: MerkleGenerationTests.ArraySource(leaves: leaves))
        let path = try b.inclusionProof(leaf: 5, size: 13)
        let text = "c2sp.org/tlog-proof@v1\nindex 5\n" + path.map { Base64.encode($0) + "\n" }.joined() + "\nexample.org/log\n13\n" + Base64.encode(try b.root(size: 13)) + "\n"
        let cons = try b.consistencyProof(from: 6, to: 13)
        try Self.rounds(4) { r in
            if let t = try? TlogProof.parse(String(decoding: Self.mutate(Array(text.utf8), &r), as: UTF8.self)) {
                #expect(t.index >= 0)
                let size = [Int64.max, Int64.min, 0, -1, 13, t.index, t.index &+ 1].randomElement(using: &r)!
                _ = MerkleVerifier.verifyInclusion(leafIndex: t.index, treeSize: size, leafHash: leaves[5], proof: t.hashes, root: try b.root(size: 13))
            }
            let s1 = [Int64.max, Int64.min, 0, -1, 1, 6, Int64.max - 1].randomElement(using: &r)!
            let s2 = [Int64.max, Int64.min, 0, -1, 13, 6, Int64.max - 1].randomElement(using: &r)!
            _ = MerkleVerifier.verifyConsistency(size1: s1, size2: s2, root1: leaves[0], root2: leaves[1], proof: cons)
            _ = MerkleVerifier.consistencyRoots(size1: s1, size2: s2, path: cons)
        }
    }

    @Test func fuzzZipReader() throws {
        let dir = tempDir("fuzz-zip")
        let w = try ZipWriter(path: dir + "/a.zip")
        try w.add(name: "a.txt", bytes: Array("hello\n".utf8))
        try w.add(name: "dir/b.bin", bytes: (0..<300).map { UInt8($0 & 0xFF) })
        try w.finish()
        let zip = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/a.zip")))
        try Self.rounds(5) { r in
            var m = Self.mutate(zip, &r)
            // Also overwrite 2/4/8-byte little-endian fields with extremes.
            if m.count > 8, Bool.random(using: &r) {
                let at = Int.random(in: 0..<(m.count - 8), using: &r)
                for j in 0..<[2, 4, 8].randomElement(using: &r)! { m[at + j] = Bool.random(using: &r) ? 0xFF : 0x7F }
            }
            try Data(m).write(to: URL(fileURLWithPath: dir + "/m.zip"))
            if let z = try? ZipReader(path: dir + "/m.zip") {
                _ = try? z.checkedBytes("a.txt")
                _ = try? z.checkedBytes("dir/b.bin")
            }
        }
    }
}
