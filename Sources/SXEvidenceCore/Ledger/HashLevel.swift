/// Hashes of one tree level in one flat buffer (32 bytes each): no allocation per hash.
struct HashLevel {
    private(set) var bytes: [UInt8]
    init(capacity: Int) { bytes = []; bytes.reserveCapacity(capacity * 32) }
    var count: Int { bytes.count / 32 }
    mutating func append(_ h: [UInt8]) { bytes.append(contentsOf: h) }
    mutating func append(contentsOf other: HashLevel) { bytes.append(contentsOf: other.bytes) }
    subscript(i: Int) -> [UInt8] { Array(bytes[(i * 32)..<(i * 32 + 32)]) }
}
