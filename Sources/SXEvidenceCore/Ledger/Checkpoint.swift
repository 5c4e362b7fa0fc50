/// c2sp.org/tlog-checkpoint: origin, size, base64 root, no extension lines.
public struct Checkpoint: Sendable, Equatable {
    public var origin: String
    public var size: Int64
    public var root: [UInt8]

    public init(origin: String, size: Int64, root: [UInt8]) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    public var text: String { "\(origin)\n\(size)\n\(Base64.encode(root))\n" }

    public static func parse(text: String) throws -> Checkpoint {
        let bad = { (what: String) in EvidenceError(.dataError, zh: "检查点格式错误：\(what)", en: "malformed checkpoint: \(what)") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines.last == "" else { throw bad("lines") }
        guard !lines[0].isEmpty else { throw bad("origin") }
        let sizeText = String(lines[1])
        guard let size = Int64(sizeText), size >= 0, String(size) == sizeText else { throw bad("size") }
        guard let root = Base64.decode(String(lines[2])), root.count == 32 else { throw bad("root hash") }
        guard lines.dropFirst(3).dropLast().allSatisfy({ !$0.isEmpty }) else { throw bad("empty extension line") }
        return Checkpoint(origin: String(lines[0]), size: size, root: root)
    }
}

/// c2sp.org/tlog-proof@v1 for one entry.
public struct TlogProof: Sendable {
    public var index: Int64
    public var hashes: [[UInt8]]
    public var checkpointNote: String   // signed note, verbatim
    public var extra: [UInt8]?

    public init(index: Int64, hashes: [[UInt8]], checkpointNote: String, extra: [UInt8]? = nil) {
        self.index = index
        self.hashes = hashes
        self.checkpointNote = checkpointNote
        self.extra = extra
    }

    public var serialized: String {
        var s = "c2sp.org/tlog-proof@v1\n"
        if let extra { s += "extra \(Base64.encode(extra))\n" }
        s += "index \(index)\n"
        for h in hashes { s += Base64.encode(h) + "\n" }
        return s + "\n" + checkpointNote
    }

    public static func parse(_ s: String) throws -> TlogProof {
        let bad = { (what: String) in EvidenceError(.dataError, zh: "tlog-proof 格式错误：\(what)", en: "malformed tlog-proof: \(what)") }
        guard let blank = s.range(of: "\n\n") else { throw bad("no blank line") }
        var lines = s[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard lines.popFirst() == "c2sp.org/tlog-proof@v1" else { throw bad("header") }
        var extra: [UInt8]?
        if let l = lines.first, l.hasPrefix("extra ") {
            guard let e = Base64.decode(String(l.dropFirst(6))) else { throw bad("extra") }
            extra = e
            lines = lines.dropFirst()
        }
        guard let il = lines.popFirst(), il.hasPrefix("index ") else { throw bad("index") }
        let it = String(il.dropFirst(6))
        guard let index = Int64(it), index >= 0, String(index) == it else { throw bad("index") }
        var hashes: [[UInt8]] = []
        for l in lines {
            guard let h = Base64.decode(String(l)), h.count == 32 else { throw bad("hash") }
            hashes.append(h)
        }
        return TlogProof(index: index, hashes: hashes, checkpointNote: String(s[blank.upperBound...]), extra: extra)
    }
}
