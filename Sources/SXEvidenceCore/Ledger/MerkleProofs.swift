/// Where proof generation reads full-subtree hashes from: node(level, index) covers leaves
/// [index * 2^level, (index + 1) * 2^level).
public protocol MerkleNodeSource {
    func node(level: Int, index: Int64) throws -> [UInt8]
}

/// Proof generation by RFC 6962 §2.1.1 (PATH) and §2.1.2 (PROOF/SUBPROOF). Only full aligned subtrees
/// are read from storage; at most one right-edge partial subtree is hashed per proof, so a proof costs
/// O(log n) reads.
public struct MerkleProofBuilder<Source: MerkleNodeSource> {
    let source: Source
    let hasher = MerkleHasher()

    public init(source: Source) { self.source = source }

    /// MTH(D[lo:hi]).
    public func subtreeHash(_ lo: Int64, _ hi: Int64) throws -> [UInt8] {
        let n = hi - lo
        precondition(n >= 1)
        if n & (n - 1) == 0 && lo % n == 0 {
            return try source.node(level: n.trailingZeroBitCount, index: lo / n)
        }
        let k = largestPowerOfTwoBelow(n)
        return hasher.node(try subtreeHash(lo, lo + k), try subtreeHash(lo + k, hi))
    }

    public func root(size: Int64) throws -> [UInt8] {
        size == 0 ? MerkleHasher.emptyRoot : try subtreeHash(0, size)
    }

    /// Audit path for leaf m in the tree of the given size, leaf's sibling first.
    public func inclusionProof(leaf m: Int64, size: Int64) throws -> [[UInt8]] {
        precondition(m >= 0 && m < size)
        var path: [[UInt8]] = []
        try inclusion(m, 0, size, &path)
        return path
    }

    private func inclusion(_ m: Int64, _ lo: Int64, _ hi: Int64, _ out: inout [[UInt8]]) throws {
        let n = hi - lo
        if n == 1 { return }
        let k = largestPowerOfTwoBelow(n)
        if m < k {
            try inclusion(m, lo, lo + k, &out)
            out.append(try subtreeHash(lo + k, hi))
        } else {
            try inclusion(m - k, lo + k, hi, &out)
            out.append(try subtreeHash(lo, lo + k))
        }
    }

    /// Consistency proof from size m to size n (0 < m <= n).
    public func consistencyProof(from m: Int64, to n: Int64) throws -> [[UInt8]] {
        precondition(m > 0 && m <= n)
        var out: [[UInt8]] = []
        try subproof(m, 0, n, true, &out)
        return out
    }

    private func subproof(_ m: Int64, _ lo: Int64, _ hi: Int64, _ complete: Bool, _ out: inout [[UInt8]]) throws {
        let n = hi - lo
        if m == n {
            if !complete { out.append(try subtreeHash(lo, hi)) }
            return
        }
        let k = largestPowerOfTwoBelow(n)
        if m <= k {
            try subproof(m, lo, lo + k, complete, &out)
            out.append(try subtreeHash(lo + k, hi))
        } else {
            try subproof(m - k, lo + k, hi, false, &out)
            out.append(try subtreeHash(lo, lo + k))
        }
    }
}

/// Proof verification, line by line after RFC 9162 §2.1.3.2 and §2.1.4.2.
public enum MerkleVerifier {
    public static func verifyInclusion(leafIndex: Int64, treeSize: Int64, leafHash: [UInt8],
                                       proof: [[UInt8]], root: [UInt8]) -> Bool {
        guard leafIndex >= 0, leafIndex < treeSize, leafHash.count == 32, root.count == 32 else { return false }
        guard proof.allSatisfy({ $0.count == 32 }) else { return false }
        let h = MerkleHasher()
        var fn = leafIndex
        var sn = treeSize - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = h.node(p, r)
                if fn & 1 == 0 {
                    repeat {
                        fn >>= 1
                        sn >>= 1
                    } while fn & 1 == 0 && fn != 0
                }
            } else {
                r = h.node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// The two roots a consistency proof commits to (RFC 9162 §2.1.4.2, run forward). `path` is the
    /// proof with, when `size1` is a power of two, the prover's own root at `size1` put first (the
    /// standard proof leaves it out). Used for proofs of misbehaviour: a path that rebuilds a signed
    /// newer root but a different older root shows that the two signed trees cannot both be honest.
    public static func consistencyRoots(size1: Int64, size2: Int64, path: [[UInt8]]) -> (old: [UInt8], new: [UInt8])? {
        guard size1 > 0, size1 < size2, !path.isEmpty, path.allSatisfy({ $0.count == 32 }) else { return nil }
        var fn = size1 - 1
        var sn = size2 - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        let h = MerkleHasher()
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { return nil }
            if fn & 1 == 1 || fn == sn {
                fr = h.node(c, fr)
                sr = h.node(c, sr)
                if fn & 1 == 0 {
                    repeat {
                        fn >>= 1
                        sn >>= 1
                    } while fn & 1 == 0 && fn != 0
                }
            } else {
                sr = h.node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 ? (fr, sr) : nil
    }

    public static func verifyConsistency(size1: Int64, size2: Int64, root1: [UInt8], root2: [UInt8],
                                         proof: [[UInt8]]) -> Bool {
        guard size1 > 0, size1 <= size2 else { return false }
        if size1 == size2 { return proof.isEmpty && root1 == root2 }
        guard root1.count == 32, root2.count == 32, !proof.isEmpty else { return false }
        // RFC 9162 §2.1.4.2: when size1 is a power of two the proof omits the old root; it is root1.
        let path = (size1 & (size1 - 1) == 0 ? [root1] : []) + proof
        guard let roots = consistencyRoots(size1: size1, size2: size2, path: path) else { return false }
        return roots.old == root1 && roots.new == root2
    }
}
