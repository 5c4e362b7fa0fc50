/// A small strict JSON reader for the documents we sign (objects, arrays, strings, integers, true,
/// false, null). Several times faster than Foundation's JSON parser on ledger entries, which matters when a
/// city node verifies a county's 100,000 entries; anything outside this subset is refused, and so are
/// integers outside Int64 and (unless `.firstWins` is asked for) duplicate keys; the caller re-encodes
/// canonically and compares bytes anyway. Every document that is signed or hashed is read here, never
/// with Foundation's JSON parser.
public indirect enum MiniJSON: Equatable, Sendable {
    case object([(String, MiniJSON)])
    case array([MiniJSON])
    case string(String)
    case int(Int64)
    case bool(Bool)
    case null

    public static func == (a: MiniJSON, b: MiniJSON) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.array(let x), .array(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    public subscript(_ key: String) -> MiniJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }
    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var int: Int64? { if case .int(let v) = self { return v } else { return nil } }
    public var array: [MiniJSON]? { if case .array(let v) = self { return v } else { return nil } }
    public var bool: Bool? { if case .bool(let v) = self { return v } else { return nil } }
    public var members: [(String, MiniJSON)]? { if case .object(let m) = self { return m } else { return nil } }
    /// An array of strings, or nil when the value is not one.
    public var strings: [String]? {
        guard let a = array else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for v in a { guard let s = v.string else { return nil }; out.append(s) }
        return out
    }

    public struct Malformed: Error {}

    /// What a key that repeats within one object means.
    public enum DuplicateKeys: Sendable {
        /// Malformed: two readers could see two documents. For everything signed or hashed.
        case refuse
        /// The first occurrence counts (later ones are kept but never found by the subscript). Only
        /// for bundle.json, whose reading sxevidence-bundle(5) documents this way.
        case firstWins
    }

    /// `fractions`: numbers with a fraction or an exponent are read as their integer part (toward
    /// zero) instead of being malformed. Only for messages from a local program we drive (the
    /// DevTools protocol, which sends sizes and times as floats); never for signed or hashed documents.
    public static func parse(_ bytes: [UInt8], duplicateKeys: DuplicateKeys = .refuse, fractions: Bool = false) throws -> MiniJSON {
        try bytes.withUnsafeBufferPointer { buf in
            var p = Parser(b: buf, i: 0, refuseDuplicates: duplicateKeys == .refuse, fractions: fractions)
            let v = try p.value(depth: 0)
            p.skipSpace()
            guard p.i == buf.count else { throw Malformed() }
            return v
        }
    }

    struct Parser {
        let b: UnsafeBufferPointer<UInt8>
        var i: Int
        let refuseDuplicates: Bool
        var fractions = false

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        }

        mutating func expect(_ c: UInt8) throws {
            skipSpace()
            guard i < b.count, b[i] == c else { throw Malformed() }
            i += 1
        }

        mutating func literal(_ s: StaticString) throws {
            let n = s.utf8CodeUnitCount
            guard i + n <= b.count else { throw Malformed() }
            for k in 0..<n where b[i + k] != s.utf8Start[k] { throw Malformed() }
            i += n
        }

        mutating func value(depth: Int) throws -> MiniJSON {
            guard depth < 32 else { throw Malformed() }
            skipSpace()
            guard i < b.count else { throw Malformed() }
            switch b[i] {
            case 0x7B:
                i += 1
                var members: [(String, MiniJSON)] = []
                var increasing = true
                skipSpace()
                if i < b.count, b[i] == 0x7D { i += 1; return .object(members) }
                while true {
                    skipSpace()
                    let k = try string()
                    // A duplicate key would let two readers see two different documents. Keys in
                    // increasing order (every canonical document) cannot repeat: one comparison
                    // with the previous key; otherwise every earlier key is compared.
                    if refuseDuplicates, let last = members.last?.0 {
                        if increasing && !last.utf8.lexicographicallyPrecedes(k.utf8) { increasing = false }
                        if !increasing { for m in members where m.0 == k { throw Malformed() } }
                    }
                    try expect(0x3A)
                    members.append((k, try value(depth: depth + 1)))
                    skipSpace()
                    guard i < b.count else { throw Malformed() }
                    if b[i] == 0x2C { i += 1; continue }
                    if b[i] == 0x7D { i += 1; return .object(members) }
                    throw Malformed()
                }
            case 0x5B:
                i += 1
                var items: [MiniJSON] = []
                skipSpace()
                if i < b.count, b[i] == 0x5D { i += 1; return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < b.count else { throw Malformed() }
                    if b[i] == 0x2C { i += 1; continue }
                    if b[i] == 0x5D { i += 1; return .array(items) }
                    throw Malformed()
                }
            case 0x22: return .string(try string())
            case 0x74: try literal("true"); return .bool(true)
            case 0x66: try literal("false"); return .bool(false)
            case 0x6E: try literal("null"); return .null
            default: return .int(try integer())
            }
        }

        mutating func integer() throws -> Int64 {
            var neg = false
            if i < b.count, b[i] == 0x2D { neg = true; i += 1 }
            let start = i
            var v: Int64 = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(b[i] - 0x30))
                guard !o1, !o2 else { throw Malformed() }
                v = a
                i += 1
            }
            guard i > start, !(b[start] == 0x30 && i - start > 1) else { throw Malformed() }
            if i < b.count, b[i] == 0x2E || b[i] == 0x65 || b[i] == 0x45 {
                guard fractions else { throw Malformed() }   // no fractions or exponents
                return try fraction(from: neg ? start - 1 : start)
            }
            return neg ? -v : v
        }

        /// The rest of a number with a fraction or exponent (JSON grammar), as its integer part.
        mutating func fraction(from start: Int) throws -> Int64 {
            func digits() throws {
                let d = i
                while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
                guard i > d else { throw Malformed() }
            }
            if i < b.count, b[i] == 0x2E { i += 1; try digits() }
            if i < b.count, b[i] == 0x65 || b[i] == 0x45 {
                i += 1
                if i < b.count, b[i] == 0x2B || b[i] == 0x2D { i += 1 }
                try digits()
            }
            guard let d = Double(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)),
                  d.isFinite, abs(d) < 9.2e18 else { throw Malformed() }
            return Int64(d.rounded(.towardZero))
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= b.count else { throw Malformed() }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = b[i]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x37
                case 0x61...0x66: d = c - 0x57
                default: throw Malformed()
                }
                v = v << 4 | UInt32(d)
                i += 1
            }
            return v
        }

        mutating func string() throws -> String {
            guard i < b.count, b[i] == 0x22 else { throw Malformed() }
            i += 1
            let start = i
            // Fast path: no escapes.
            while i < b.count, b[i] != 0x22, b[i] != 0x5C {
                guard b[i] >= 0x20 else { throw Malformed() }
                i += 1
            }
            guard i < b.count else { throw Malformed() }
            if b[i] == 0x22 {
                let s = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            var out = Array(b[start..<i])
            while i < b.count {
                let c = b[i]
                if c == 0x22 { i += 1; return String(decoding: out, as: UTF8.self) }
                guard c >= 0x20 else { throw Malformed() }
                if c != 0x5C { out.append(c); i += 1; continue }
                i += 1
                guard i < b.count else { throw Malformed() }
                let e = b[i]
                i += 1
                switch e {
                case 0x22, 0x5C, 0x2F: out.append(e)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75:
                    var u = try hex4()
                    if u >= 0xD800 && u < 0xDC00 {
                        guard i + 6 <= b.count, b[i] == 0x5C, b[i + 1] == 0x75 else { throw Malformed() }
                        i += 2
                        let lo = try hex4()
                        guard lo >= 0xDC00 && lo < 0xE000 else { throw Malformed() }
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                    } else if u >= 0xDC00 && u < 0xE000 {
                        throw Malformed()
                    }
                    guard let scalar = Unicode.Scalar(u) else { throw Malformed() }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw Malformed()
                }
            }
            throw Malformed()
        }
    }
}
