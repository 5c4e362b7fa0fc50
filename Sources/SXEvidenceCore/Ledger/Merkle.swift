/// RFC 6962 §2.1 hashing. One hasher per thread: it reuses its OpenSSL context.
public final class MerkleHasher {
    private let d = StreamingDigest(.sha256)
    private static let leafPrefix: [UInt8] = [0x00]
    private static let nodePrefix: [UInt8] = [0x01]

    public init() {}

    /// SHA-256(0x00 || data)
    public func leaf(_ data: [UInt8]) -> [UInt8] {
        d.update(Self.leafPrefix)
        d.update(data)
        return d.finish()
    }

    /// SHA-256(0x01 || left || right)
    public func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        d.update(Self.nodePrefix)
        d.update(left)
        d.update(right)
        return d.finish()
    }

    /// MTH({}) = SHA-256("")
    public static let emptyRoot: [UInt8] = Hashing.sha256([])
}

/// Largest power of two strictly less than n (n >= 2), the split point `k` of RFC 6962.
@inline(__always)
func largestPowerOfTwoBelow(_ n: Int64) -> Int64 {
    precondition(n >= 2)
    return Int64(1) << (63 - (n - 1).leadingZeroBitCount)
}

/// The right edge of a tree: the roots of its full subtrees, largest first (a "compact range" [0, size)).
/// Appending is O(1) amortised; each completed full subtree is reported so it can be stored.
public struct MerkleFrontier {
    public private(set) var size: Int64
    /// (level, hash) with strictly decreasing levels.
    public private(set) var nodes: [(level: Int, hash: [UInt8])]

    public init() {
        size = 0
        nodes = []
    }

    public init(size: Int64, nodes: [(level: Int, hash: [UInt8])]) {
        self.size = size
        self.nodes = nodes
    }

    /// The levels and indexes of the full subtrees that make up [0, size), largest first.
    public static func decomposition(of size: Int64) -> [(level: Int, index: Int64)] {
        var out: [(Int, Int64)] = []
        var start: Int64 = 0
        for b in stride(from: 62, through: 0, by: -1) where size & (Int64(1) << b) != 0 {
            out.append((b, start >> b))
            start += Int64(1) << b
        }
        return out
    }

    /// Append a leaf hash; `completed` receives each new full subtree of level >= 1 (level, index, hash).
    public mutating func append(_ leafHash: [UInt8], hasher: MerkleHasher,
                                completed: (Int, Int64, [UInt8]) throws -> Void) rethrows {
        nodes.append((0, leafHash))
        size += 1
        while nodes.count >= 2 && nodes[nodes.count - 1].level == nodes[nodes.count - 2].level {
            let right = nodes.removeLast()
            let left = nodes.removeLast()
            let level = left.level + 1
            let h = hasher.node(left.hash, right.hash)
            nodes.append((level, h))
            try completed(level, (size >> level) - 1, h)
        }
    }

    public func root(hasher: MerkleHasher) -> [UInt8] {
        guard var r = nodes.last?.hash else { return MerkleHasher.emptyRoot }
        for i in stride(from: nodes.count - 2, through: 0, by: -1) {
            r = hasher.node(nodes[i].hash, r)
        }
        return r
    }
}
