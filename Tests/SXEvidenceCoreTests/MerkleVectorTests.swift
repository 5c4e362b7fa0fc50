import Foundation
import Testing
@testable import SXEvidenceCore

/// Every inclusion and consistency case of the public RFC 6962 vectors, and the real Argon2020 log.
@Suite struct MerkleVectorTests {
    static func files(_ sub: String) -> [URL] {
        let dir = merkleVectors.appendingPathComponent("testdata/\(sub)")
        let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)
        return (e?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
    }

    static func load(_ u: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: u)) as? [String: Any], "\(u.path) is not a JSON object")
    }

    static func proof(_ d: [String: Any]) -> [[UInt8]] { (d["proof"] as? [String] ?? []).map(b64) }

    @Test func inclusionVectors() throws {
        let all = Self.files("inclusion")
        #expect(all.count >= 90, "inclusion vectors not found at \(merkleVectors.path)")
        var accepted = 0
        for f in all {
            let d = try Self.load(f)
            let ok = MerkleVerifier.verifyInclusion(
                leafIndex: (d["leafIdx"] as! NSNumber).int64Value, treeSize: (d["treeSize"] as! NSNumber).int64Value,
                leafHash: b64(d["leafHash"] as? String ?? ""), proof: Self.proof(d), root: b64(d["root"] as? String ?? ""))
            #expect(ok == !(d["wantErr"] as! Bool), "\(f.path)")
            if ok { accepted += 1 }
        }
        #expect(accepted >= 5)
    }

    @Test func consistencyVectors() throws {
        let all = Self.files("consistency")
        #expect(all.count >= 90, "consistency vectors not found at \(merkleVectors.path)")
        for f in all {
            let d = try Self.load(f)
            let ok = MerkleVerifier.verifyConsistency(
                size1: (d["size1"] as! NSNumber).int64Value, size2: (d["size2"] as! NSNumber).int64Value,
                root1: b64(d["root1"] as? String ?? ""), root2: b64(d["root2"] as? String ?? ""), proof: Self.proof(d))
            #expect(ok == !(d["wantErr"] as! Bool), "\(f.path)")
        }
    }

    @Test func argon2020RealLog() throws {
        let dir = merkleVectors.appendingPathComponent("golang-mod-argon2020")
        let sth = try Self.load(dir.appendingPathComponent("sth.json"))
        let proof = try Self.load(dir.appendingPathComponent("proof.json"))
        let entries = try Self.load(dir.appendingPathComponent("entries.json"))
        let cons = try Self.load(dir.appendingPathComponent("consistency.json"))
        let size = (sth["tree_size"] as! NSNumber).int64Value
        let root = b64(sth["sha256_root_hash"] as! String)
        let leafInput = b64(((entries["entries"] as! [[String: Any]])[0])["leaf_input"] as! String)
        let leaf = MerkleHasher().leaf(leafInput)
        #expect(Hex.encode(leaf) == "9c2b3799f232761f71e022b243ebb6c6d9a9c66160800e4c2f2987c0d41294b8")
        let path = (proof["audit_path"] as! [String]).map(b64)
        #expect(MerkleVerifier.verifyInclusion(leafIndex: 10000, treeSize: size, leafHash: leaf, proof: path, root: root))
        #expect(!MerkleVerifier.verifyInclusion(leafIndex: 10001, treeSize: size, leafHash: leaf, proof: path, root: root))
        let cpath = (cons["consistency"] as! [String]).map(b64)
        let oldRoot = b64("AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=")
        #expect(MerkleVerifier.verifyConsistency(size1: 3654490, size2: size, root1: oldRoot, root2: root, proof: cpath))
        #expect(!MerkleVerifier.verifyConsistency(size1: 3654491, size2: size, root1: oldRoot, root2: root, proof: cpath))
    }
}

/// Our proof generation against the RFC 6962 reference tree and against our own verifier.
@Suite struct MerkleGenerationTests {
    struct ArraySource: MerkleNodeSource {
        let leaves: [[UInt8]]
        let h = MerkleHasher()
        func node(level: Int, index: Int64) throws -> [UInt8] {
            let w = 1 << level
            var level0 = Array(leaves[Int(index) * w..<Int(index) * w + w])
            while level0.count > 1 {
                level0 = stride(from: 0, to: level0.count, by: 2).map { h.node(level0[$0], level0[$0 + 1]) }
            }
            return level0[0]
        }
    }

    static let referenceData: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                           "606162636465666768696a6b6c6d6e6f"].map(hex)
    static let referenceRoots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func referenceTreeRoots() throws {
        let h = MerkleHasher()
        #expect(Hex.encode(MerkleHasher.emptyRoot) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let leaves = Self.referenceData.map { h.leaf($0) }
        var frontier = MerkleFrontier()
        for n in 1...8 {
            frontier.append(leaves[n - 1], hasher: h) { _, _, _ in }
            #expect(Hex.encode(frontier.root(hasher: h)) == Self.referenceRoots[n - 1], "frontier root at \(n)")
            let b = MerkleProofBuilder(source: ArraySource(leaves: leaves))
            #expect(Hex.encode(try b.root(size: Int64(n))) == Self.referenceRoots[n - 1], "builder root at \(n)")
        }
    }

    /// The happy-path vectors give the expected proofs for the reference tree: we must produce them exactly.
    @Test func generatedProofsEqualVectors() throws {
        let h = MerkleHasher()
        let b = MerkleProofBuilder(source: ArraySource(leaves: Self.referenceData.map { h.leaf($0) }))
        for dir in 1...4 {
            let inc = try MerkleVectorTests.load(merkleVectors.appendingPathComponent("testdata/inclusion/\(dir)/happy-path.json"))
            let got = try b.inclusionProof(leaf: (inc["leafIdx"] as! NSNumber).int64Value, size: (inc["treeSize"] as! NSNumber).int64Value)
            #expect(got == MerkleVectorTests.proof(inc), "inclusion \(dir)")
            let con = try MerkleVectorTests.load(merkleVectors.appendingPathComponent("testdata/consistency/\(dir)/happy-path.json"))
            let cgot = try b.consistencyProof(from: (con["size1"] as! NSNumber).int64Value, to: (con["size2"] as! NSNumber).int64Value)
            #expect(cgot == MerkleVectorTests.proof(con), "consistency \(dir)")
        }
    }

    /// Every proof for every (m, n) up to 40 leaves verifies, and a flipped bit does not.
    @Test func allSmallTrees() throws {
        let h = MerkleHasher()
        let leaves = (0..<40).map { h.leaf(Array("leaf \($0)".utf8)) }
        let b = MerkleProofBuilder(source: ArraySource(leaves: leaves))
        for n in Int64(1)...40 {
            let root = try b.root(size: n)
            for m in Int64(0)..<n {
                var p = try b.inclusionProof(leaf: m, size: n)
                #expect(MerkleVerifier.verifyInclusion(leafIndex: m, treeSize: n, leafHash: leaves[Int(m)], proof: p, root: root))
                if !p.isEmpty {
                    p[0][3] ^= 1
                    #expect(!MerkleVerifier.verifyInclusion(leafIndex: m, treeSize: n, leafHash: leaves[Int(m)], proof: p, root: root))
                }
                let m1 = m + 1
                let c = try b.consistencyProof(from: m1, to: n)
                #expect(MerkleVerifier.verifyConsistency(size1: m1, size2: n, root1: try b.root(size: m1), root2: root, proof: c))
                if m1 < n {
                    #expect(!MerkleVerifier.verifyConsistency(size1: m1, size2: n, root1: try b.root(size: m1), root2: leaves[0], proof: c))
                }
            }
        }
    }
}
