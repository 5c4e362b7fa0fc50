import Foundation

/// A run of one node's ledger entries with the signed checkpoint that covers them and a consistency
/// proof from the size the receiver already holds (sxevidence-consortium(5), BATCH):
///
///     sxevidence-batch/1
///     node 330603
///     start 1200
///     count 3
///     old 1200
///     oldroot <base64 root of the sender's tree at old>
///     proof 2
///     <proof hash, base64> x proof
///     <entry canonical bytes, base64> x count
///     <blank line>
///     <signed checkpoint note of size start+count>
public struct EntryBatch: Sendable {
    public static let header = "sxevidence-batch/1"
    /// Largest tree size a batch may reach (start + count <= 2^53); parse refuses larger ranges.
    public static let maxSize: Int64 = 1 << 53
    public var node: String
    public var start: Int64
    public var bodies: [[UInt8]]
    public var old: Int64
    public var oldRoot: [UInt8]
    public var proof: [[UInt8]]
    public var checkpointNote: String

    public init(node: String, start: Int64, bodies: [[UInt8]], old: Int64, oldRoot: [UInt8], proof: [[UInt8]], checkpointNote: String) {
        self.node = node
        self.start = start
        self.bodies = bodies
        self.old = old
        self.oldRoot = oldRoot
        self.proof = proof
        self.checkpointNote = checkpointNote
    }

    public var end: Int64 { start + Int64(bodies.count) }

    public var serialized: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(256 + bodies.reduce(0) { $0 + $1.count * 4 / 3 + 4 } + checkpointNote.utf8.count)
        out += Array("\(Self.header)\nnode \(node)\nstart \(start)\ncount \(bodies.count)\nold \(old)\noldroot \(Base64.encode(oldRoot))\nproof \(proof.count)\n".utf8)
        for h in proof { out += Array(Base64.encode(h).utf8); out.append(0x0A) }
        for b in bodies { out += Array(Base64.encode(b).utf8); out.append(0x0A) }
        out.append(0x0A)
        out += Array(checkpointNote.utf8)
        return out
    }

    static func bad(_ what: String) -> EvidenceError {
        EvidenceError(.dataError, zh: "批次格式错误：\(what)", en: "malformed entry batch: \(what)")
    }

    public static func parse(_ data: [UInt8]) throws -> EntryBatch {
        var pos = 0
        func line() throws -> Substring {
            guard let nl = data[pos...].firstIndex(of: 0x0A) else { throw bad("truncated") }
            let s = String(decoding: data[pos..<nl], as: UTF8.self)
            pos = nl + 1
            return Substring(s)
        }
        func field(_ name: String) throws -> String {
            let l = try line()
            guard l.hasPrefix(name + " ") else { throw bad("expected \(name)") }
            return String(l.dropFirst(name.count + 1))
        }
        func number(_ name: String) throws -> Int64 {
            let t = try field(name)
            guard let v = Int64(t), v >= 0, String(v) == t else { throw bad(name) }
            return v
        }
        guard try line() == Substring(header) else { throw bad("header") }
        let node = try field("node")
        let start = try number("start")
        let count = try number("count")
        let old = try number("old")
        guard let oldRoot = Base64.decode(try field("oldroot")), oldRoot.count == 32 else { throw bad("oldroot") }
        let proofCount = try number("proof")
        guard proofCount <= 63, count <= 1_000_000 else { throw bad("counts") }
        // Bound the range before anyone adds to it: start + count <= 2^53 and old <= start + count.
        guard start <= maxSize - count, old <= start + count else { throw bad("range") }
        var proof: [[UInt8]] = []
        for _ in 0..<proofCount {
            guard let h = Base64.decode(String(try line())), h.count == 32 else { throw bad("proof hash") }
            proof.append(h)
        }
        var bodies: [[UInt8]] = []
        bodies.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let b = Base64.decode(String(try line())), !b.isEmpty else { throw bad("entry") }
            bodies.append(b)
        }
        guard try line().isEmpty else { throw bad("no blank line before the checkpoint") }
        let note = String(decoding: data[pos...], as: UTF8.self)
        return EntryBatch(node: node, start: start, bodies: bodies, old: old, oldRoot: oldRoot, proof: proof, checkpointNote: note)
    }
}

/// Two checkpoints signed by one node's key that cannot both come from one append-only log
/// (sxevidence-consortium(5), FORK PROOF). `first` is the smaller (or equal) size; `path` is a
/// consistency path (see MerkleVerifier.consistencyRoots) that rebuilds `second`'s root and a root
/// at `first`'s size that differs from `first`'s.
public struct ForkProof: Sendable, Codable {
    public static let formatName = "sxevidence-fork/1"
    public var format = ForkProof.formatName
    public var node: String
    public var origin: String
    public var first: String
    public var second: String
    public var path: [String]
    public var detected: String
    public var detectedBy: String

    enum CodingKeys: String, CodingKey {
        case format, node, origin, first, second, path, detected
        case detectedBy = "detected_by"
    }

    public init(node: String, origin: String, first: String, second: String, path: [[UInt8]], detectedBy: String) {
        self.node = node
        self.origin = origin
        self.first = first
        self.second = second
        self.path = path.map(Base64.encode)
        self.detected = UTCTime.now()
        self.detectedBy = detectedBy
    }

    public var json: [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array((try? enc.encode(self)) ?? Data()) + [0x0A]
    }

    public static func parse(_ data: [UInt8]) throws -> ForkProof {
        guard let p = try? JSONDecoder().decode(ForkProof.self, from: Data(data)), p.format == formatName else {
            throw EvidenceError(.dataError, zh: "分叉证明格式错误", en: "malformed fork proof")
        }
        return p
    }

    /// Check the proof with the node's two keys. Returns a sentence saying what it shows, or throws.
    public func verify(keys: [NoteVerifier]) throws -> (size1: Int64, size2: Int64) {
        func fail(_ zh: String, _ en: String) -> EvidenceError { EvidenceError(.verification, zh: "分叉证明不成立：\(zh)", en: "fork proof does not hold: \(en)") }
        var cps: [Checkpoint] = []
        for n in [first, second] {
            let note = try SignedNote.parse(n)
            let r = note.check(with: keys)
            guard r.count == keys.count, r.allSatisfy(\.ok) else { throw fail("检查点签名无效", "a checkpoint is not validly signed by the node's keys") }
            let cp = try Checkpoint.parse(text: note.text)
            guard cp.origin == origin else { throw fail("来源名不符", "origin mismatch") }
            cps.append(cp)
        }
        let (a, b) = (cps[0], cps[1])
        if a.size == b.size {
            guard a.root != b.root else { throw fail("两检查点相同", "the checkpoints agree") }
            return (a.size, b.size)
        }
        guard a.size < b.size, a.size > 0 else { throw fail("大小顺序不对", "sizes out of order") }
        let hashes = path.compactMap(Base64.decode)
        guard hashes.count == path.count, let roots = MerkleVerifier.consistencyRoots(size1: a.size, size2: b.size, path: hashes) else {
            throw fail("一致性路径无效", "consistency path is malformed")
        }
        guard roots.new == b.root else { throw fail("路径不能重建第二个检查点的根", "the path does not rebuild the second checkpoint's root") }
        guard roots.old != a.root else { throw fail("两检查点一致", "the checkpoints are consistent") }
        return (a.size, b.size)
    }
}
