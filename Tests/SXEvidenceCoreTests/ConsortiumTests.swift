import Foundation
import Testing
@testable import SXEvidenceCore

/// The consortium building blocks, each checked against an independent computation where one exists.
@Suite struct ConsortiumTests {
    static let countyID = "330603"
    static let countyOrigin = NodeConfig.defaultOrigin(nodeID: countyID)

    static func keys(_ origin: String) throws -> NodeKeys { NodeKeys(ed25519: try Ed25519Key.generate(), sm2: try SM2Key.generate(), name: origin) }

    static func member(_ id: String, _ role: NodeRole, _ k: NodeKeys) -> ConsortiumPolicy.Member {
        .init(nodeID: id, name: "n\(id)", role: role, origin: k.name, ed25519: k.ed25519.publicKey, sm2: k.sm2.publicPoint, endpoint: "http://127.0.0.1:1")
    }

    static func county(_ tag: String, keys k: NodeKeys) throws -> NodeHome {
        let cfg = NodeConfig(nodeID: countyID, name: "柯桥", role: .county, origin: countyOrigin, created: UTCTime.now())
        return try NodeHome.create(at: tempDir(tag) + "/home", config: cfg, keys: (k.ed25519, k.sm2))
    }

    static func replica(_ tag: String) throws -> Ledger {
        try Ledger(path: tempDir(tag) + "/replica.db", nodeID: countyID, origin: countyOrigin, create: true)
    }

    static func add(_ home: NodeHome, _ k: NodeKeys, _ n: Int, tag: String = "x") throws {
        for i in 0..<n {
            let a = Artifact(name: "f\(i)", size: 1, sha256: Hex.encode(Hashing.sha256([UInt8(i)] + Array(tag.utf8))), sm3: String(repeating: "b", count: 64))
            try home.ledger.append([EntryDraft(kind: .file, caseID: "C", officer: "A", method: "t", note: tag, artifacts: [a])], sign: k.sign)
        }
    }

    // MARK: policy

    @Test func policySignedByCityAndTamperRefused() throws {
        let city = try Self.keys("sxevidence.shaoxing/330600")
        let county = try Self.keys(Self.countyOrigin)
        let p = ConsortiumPolicy(version: 3, city: "330600", created: UTCTime.now(),
                                 members: [Self.member("330600", .city, city), Self.member(Self.countyID, .county, county)], cosigners: ["330600"])
        let signed = try p.signed(with: city).serialized
        let (back, _) = try ConsortiumPolicy.verify(signed)
        #expect(back == p)
        // The JSON line is what Python's canonical form gives (sorted keys, no spaces, UTF-8 as is).
        let line = String(p.text.split(separator: "\n")[1])
        let py = try runTool(["python3", "-c", "import sys,json; o=json.load(sys.stdin); sys.stdout.write(json.dumps(o, sort_keys=True, separators=(',',':'), ensure_ascii=False))"],
                             stdin: Data(line.utf8))
        #expect(py.out == line)
        // One changed character of the policy text: refused.
        #expect(throws: EvidenceError.self) { try ConsortiumPolicy.verify(signed.replacingOccurrences(of: "\"version\":3", with: "\"version\":4")) }
        // Signed by the county instead of the city: refused.
        #expect(throws: EvidenceError.self) { try ConsortiumPolicy.verify(try p.signed(with: county).serialized) }
        // Non-canonical JSON (a space), even if signed: refused.
        let spaced = SignedNote(text: p.text.replacingOccurrences(of: "{\"city\"", with: "{ \"city\""), signatures: [])
        #expect(throws: EvidenceError.self) { try ConsortiumPolicy.verify(try SignedNote.sign(text: spaced.text, with: city.signers).serialized) }
        // A different city key than the one trusted: refused.
        let other = try Self.keys("sxevidence.shaoxing/330600")
        #expect(throws: EvidenceError.self) { try ConsortiumPolicy.verify(signed, trustedCity: Self.member("330600", .city, other)) }
    }

    // MARK: cosignatures

    /// Our cosignature lines check out with openssl and Python (key ID, message, Ed25519 and SM2 signatures).
    @Test func cosignatureIndependentlyVerified() throws {
        let city = try Self.keys("sxevidence.shaoxing/330600")
        let text = "\(Self.countyOrigin)\n7\n\(Base64.encode(Hashing.sha256([1])))\n"
        let t: UInt64 = 1_796_000_000
        let sigs = try Cosignature.sign(checkpointText: text, witness: city, time: t)
        let v = try Cosignature.Verifier(name: city.name, ed25519Public: city.ed25519.publicKey, sm2Point: city.sm2.publicPoint)
        #expect(v.check(sigs, checkpointText: text).ok)
        #expect(!v.check(sigs, checkpointText: text.replacingOccurrences(of: "\n7\n", with: "\n8\n")).ed25519)
        let dir = tempDir("cosig")
        try Data(("cosignature/v1\ntime \(t)\n" + text).utf8).write(to: URL(fileURLWithPath: dir + "/msg"))
        try city.ed25519.publicPEM().write(toFile: dir + "/ed.pem", atomically: false, encoding: .utf8)
        try city.sm2.publicPEM().write(toFile: dir + "/sm2.pem", atomically: false, encoding: .utf8)
        for (i, s) in sigs.enumerated() {
            // Parse the line as a stranger would: base64(keyID || u64 time || signature).
            let raw = b64(String(s.line.split(separator: " ")[2].dropLast()))
            #expect(Array(raw[4..<12]) == withUnsafeBytes(of: t.bigEndian) { Array($0) })
            try Data(raw[12...]).write(to: URL(fileURLWithPath: dir + "/sig\(i)"))
            let type = i == 0 ? "b'\\x04'" : "b'\\xff' + b'sxevidence/sm2-sm3-cosignature/v1'"
            let pub = Hex.encode(i == 0 ? city.ed25519.publicKey : city.sm2.publicPoint)
            let py = try runTool(["python3", "-c", "import hashlib; print(hashlib.sha256(b'\(city.name)\\n' + \(type) + bytes.fromhex('\(pub)')).hexdigest()[:8])"])
            #expect(py.out.trimmingCharacters(in: .whitespacesAndNewlines) == Hex.encode(raw[0..<4]))
        }
        let r1 = try runTool(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir + "/ed.pem", "-rawin", "-in", dir + "/msg", "-sigfile", dir + "/sig0"])
        #expect(r1.status == 0, "\(r1.err)")
        let r2 = try runTool(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir + "/sm2.pem", "-rawin", "-digest", "sm3",
                              "-pkeyopt", "distid:1234567812345678", "-in", dir + "/msg", "-sigfile", dir + "/sig1"])
        #expect(r2.status == 0, "\(r2.err)")
    }

    // MARK: Merkle

    /// consistencyRoots rebuilds both roots from every (m, n) proof up to 40 leaves.
    @Test func consistencyRootsRebuildBothTrees() throws {
        let h = MerkleHasher()
        let leaves = (0..<40).map { h.leaf([UInt8($0)]) }
        let b = MerkleProofBuilder(source: MerkleGenerationTests.ArraySource(leaves: leaves))
        for n in 2...40 {
            for m in 1..<n {
                let rm = try b.root(size: Int64(m)), rn = try b.root(size: Int64(n))
                let path = (m & (m - 1) == 0 ? [rm] : []) + (try b.consistencyProof(from: Int64(m), to: Int64(n)))
                let roots = MerkleVerifier.consistencyRoots(size1: Int64(m), size2: Int64(n), path: path)
                #expect(roots?.old == rm && roots?.new == rn, "m=\(m) n=\(n)")
            }
        }
    }

    // MARK: receiving

    @Test func replicaAppliesBatchesAndResumes() throws {
        let k = try Self.keys(Self.countyOrigin)
        let home = try Self.county("rep", keys: k)
        try Self.add(home, k, 7)
        let rep = try Self.replica("rep")
        let v = try k.verifiers()
        let b1 = try #require(try home.ledger.batch(old: 0, max: 3))
        #expect(b1.end == 3)
        #expect(try rep.applyBatch(b1, verifiers: v, detectedBy: "330600") { _ in }.added == 3)
        #expect(try rep.applyBatch(b1, verifiers: v, detectedBy: "330600") { _ in }.added == 0)   // repeat: no-op
        // A batch that starts earlier than held (a resumed transfer) applies only what is new.
        let whole = try #require(try home.ledger.batch(old: 0, max: 100))
        var resumed = whole
        resumed.old = 3
        resumed.proof = try home.ledger.consistencyProof(from: 3, to: 7)
        #expect(try rep.applyBatch(resumed, verifiers: v, detectedBy: "330600") { _ in }.added == 4)
        #expect(try rep.size() == 7)
        #expect(try rep.root(size: 7) == home.ledger.root(size: 7))
        // Bytes, tree and checkpoint match the county's own ledger.
        for i in 0..<7 { #expect(try rep.entry(index: Int64(i))?.body == home.ledger.entry(index: Int64(i))?.body) }
    }

    @Test func badBatchesApplyNothing() throws {
        let k = try Self.keys(Self.countyOrigin)
        let home = try Self.county("bad", keys: k)
        try Self.add(home, k, 4)
        let rep = try Self.replica("bad")
        let v = try k.verifiers()
        let good = try #require(try home.ledger.batch(old: 0, max: 100))
        func refused(_ b: EntryBatch, _ what: String) {
            #expect(throws: (any Error).self, "\(what)") { try rep.applyBatch(b, verifiers: v, detectedBy: "330600") { _ in } }
            #expect((try? rep.size()) == 0, "\(what) left entries behind")
        }
        var b = good
        b.bodies[2][10] ^= 1
        refused(b, "flipped entry byte")
        b = good
        b.bodies.swapAt(1, 2)
        refused(b, "swapped entries")
        b = good
        b.bodies.removeLast()
        refused(b, "missing entry")
        b = good
        b.checkpointNote = b.checkpointNote.replacingOccurrences(of: "\n4\n", with: "\n5\n")
        refused(b, "edited checkpoint")
        let stranger = try Self.keys(Self.countyOrigin)
        b = good
        b.checkpointNote = try stranger.sign(Checkpoint(origin: Self.countyOrigin, size: 4, root: try home.ledger.root(size: 4))).serialized
        refused(b, "checkpoint signed by another key")
        // An artifact check that fails stops the whole batch.
        #expect(throws: EvidenceError.self) {
            try rep.applyBatch(good, verifiers: v, detectedBy: "330600") { a in
                if a.name == "f3" { throw EvidenceError(.verification, zh: "", en: "object mismatch") }
            }
        }
        #expect(try rep.size() == 0)
        #expect(try rep.applyBatch(good, verifiers: v, detectedBy: "330600") { _ in }.added == 4)
        // A stale `old` is answered with the held size.
        try Self.add(home, k, 2)
        let next = try #require(try home.ledger.batch(old: 5, max: 100))
        #expect { try rep.applyBatch(next, verifiers: v, detectedBy: "330600") { _ in } } throws: { ($0 as? EvidenceError)?.cause(as: StaleOldSize.self) != nil }
    }

    /// A rewritten history signed with the real key is refused, with a proof a third party can check.
    @Test(arguments: [(4, 4), (4, 9), (5, 9), (6, 3)])
    func forkIsRefusedAndProven(_ sizes: (Int, Int)) throws {
        let (held, rewritten) = sizes
        let k = try Self.keys(Self.countyOrigin)
        let honest = try Self.county("fork-a", keys: k)
        try Self.add(honest, k, held, tag: "honest")
        let rep = try Self.replica("fork")
        let v = try k.verifiers()
        _ = try rep.applyBatch(try #require(try honest.ledger.batch(old: 0, max: 100)), verifiers: v, detectedBy: "330600") { _ in }
        let liar = try Self.county("fork-b", keys: k)
        try Self.add(liar, k, rewritten, tag: "rewritten")
        var b: EntryBatch
        if rewritten > held {
            b = try #require(try liar.ledger.batch(old: Int64(held), max: 100))
        } else {
            b = try #require(try liar.ledger.batch(old: 0, max: 100))
        }
        var proof: ForkProof?
        do {
            _ = try rep.applyBatch(b, verifiers: v, detectedBy: "330600") { _ in }
        } catch let e as EvidenceError {
            proof = e.cause(as: ForkDetected.self)?.proof
        }
        let p = try #require(proof, "fork not detected for \(sizes)")
        #expect(try rep.size() == Int64(held))
        let (a, c) = try p.verify(keys: v)
        #expect(a == Int64(min(held, rewritten)) && c == Int64(max(held, rewritten)))
        // Round trip through its file form, and tampering breaks it.
        let back = try ForkProof.parse(p.json)
        _ = try back.verify(keys: v)
        if !back.path.isEmpty {
            var t = back
            t.path[0] = Base64.encode(Hashing.sha256([9]))
            #expect(throws: EvidenceError.self) { try t.verify(keys: v) }
        }
        let other = try Self.keys(Self.countyOrigin)
        #expect(throws: EvidenceError.self) { try back.verify(keys: try other.verifiers()) }
        // Two consistent checkpoints are not a fork.
        var honestPair = back
        honestPair.second = honestPair.first
        #expect(throws: EvidenceError.self) { try honestPair.verify(keys: v) }
    }

    // MARK: requests

    @Test func requestSignaturesStaleAndReplayed() throws {
        let city = try Self.keys("sxevidence.shaoxing/330600")
        let county = try Self.keys(Self.countyOrigin)
        let p = ConsortiumPolicy(version: 1, city: "330600", created: "", members: [Self.member("330600", .city, city), Self.member(Self.countyID, .county, county)], cosigners: ["330600"])
        let digest = Hex.encode(Hashing.sha256(Array("body".utf8)))
        let now: Int64 = 1_800_000_000
        let host = "city.example:8443"
        let h = try RequestAuth.sign(method: "POST", target: "/v1/push", bodySHA256: digest, node: Self.countyID, to: "330600", authority: host, key: county.ed25519, now: now)
        let hdr = { (n: String) in h.first { $0.0 == n }?.1 }
        func check(_ target: String = "/v1/push", digest d: String = digest, header: @escaping (String) -> String? = hdr, policy: ConsortiumPolicy = p,
                   nonces: NonceCache = NonceCache(), selfNode: String = "330600", authority: String = host, now t: Int64 = now) -> Result<ConsortiumPolicy.Member, RequestAuth.Refusal> {
            RequestAuth.check(method: "POST", target: target, bodySHA256: d, header: header, policy: policy, nonces: nonces, selfNode: selfNode, authority: authority, now: t)
        }
        let cache = NonceCache()
        let ok = check(nonces: cache, now: now + 10)
        #expect((try? ok.get())?.nodeID == Self.countyID)
        #expect(check(nonces: cache, now: now + 10) == .failure(.replayed))
        #expect(check(now: now + 400) == .failure(.stale(400)))
        #expect(check("/v1/objects") == .failure(.badSignature))
        #expect(check(digest: Hex.encode(Hashing.sha256([]))) == .failure(.badSignature))
        let removed = ConsortiumPolicy(version: 2, city: "330600", created: "", members: [Self.member("330600", .city, city)], cosigners: ["330600"])
        #expect(check(policy: removed) == .failure(.unknownNode(Self.countyID)))
        #expect(check(header: { _ in nil }) == .failure(.missing))
        // Bound to the destination: another node, another authority, and a /1 request (no SX-To) are refused;
        // the Host header is compared case-insensitively.
        #expect(check(selfNode: "330604") == .failure(.wrongNode("330600")))
        #expect(check(authority: "county.example:8443") == .failure(.badSignature))
        #expect(check(authority: "city.example") == .failure(.badSignature))
        #expect((try? check(authority: "CITY.Example:8443").get())?.nodeID == Self.countyID)
        #expect(check(header: { $0 == RequestAuth.toHeader ? nil : hdr($0) }) == .failure(.oldVersion))
    }

    /// The nonce store is a file: a second store on the same path (a restarted server) refuses a seen nonce,
    /// and rows older than twice the skew are pruned.
    @Test func nonceStorePersistsAndPrunes() throws {
        let path = tempDir("nonces") + "/nonces.db"
        let now: Int64 = 1_800_000_000
        #expect(try NonceCache(path: path).insert(node: "a", nonce: "n1", time: now, now: now))
        let reopened = try NonceCache(path: path)
        #expect(try reopened.insert(node: "a", nonce: "n1", time: now, now: now + 5) == false)
        #expect(try reopened.insert(node: "b", nonce: "n1", time: now, now: now + 5))
        // Far later (after pruning), the old row is gone.
        let later = try NonceCache(path: path)
        #expect(try later.insert(node: "a", nonce: "n2", time: now + 1000, now: now + 1000))
        #expect(try later.insert(node: "a", nonce: "n1", time: now + 1000, now: now + 1000))
    }
}

extension RequestAuth.Refusal: CustomStringConvertible { public var description: String { text } }
