/// The one canonical encoder: RFC 8785 (JCS) restricted to objects, arrays, strings, integers and
/// (for the capture metadata records only) `true`, `false` and `null`; no fractions, exponents or
/// white space, no trailing newline. Callers write members in ascending key order (all our keys are
/// ASCII, so UTF-16 order equals byte order); debug builds check it. Every document that is signed or
/// hashed is written here and read back with `MiniJSON`.
public struct CanonicalJSONWriter {
    public private(set) var bytes: [UInt8] = []
    // One bit per open container (depth <= 64): set once the container has a member. A bit stack
    // instead of an array saves an allocation per encoded entry.
    private var commaBits: UInt64 = 0
    private var depth = 0
    #if DEBUG
    private var lastKey: [String?] = []
    #endif

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    public mutating func beginObject() { separate(); bytes.append(0x7B); push(); debugPush() }
    public mutating func endObject() { bytes.append(0x7D); depth -= 1; debugPop() }
    public mutating func beginArray() { separate(); bytes.append(0x5B); push(); debugPush() }
    public mutating func endArray() { bytes.append(0x5D); depth -= 1; debugPop() }

    private mutating func push() {
        precondition(depth < 64, "canonical JSON nested too deeply")
        depth += 1
        commaBits &= ~(UInt64(1) << (depth - 1))
    }

    public mutating func key(_ k: String) {
        #if DEBUG
        if let prev = lastKey[lastKey.count - 1] { assert(prev < k, "canonical keys out of order: \(prev) \(k)") }
        lastKey[lastKey.count - 1] = k
        #endif
        separate()
        appendString(k)
        bytes.append(0x3A)
        commaBits &= ~(UInt64(1) << (depth - 1))
    }

    public mutating func string(_ s: String) { separate(); appendString(s) }
    public mutating func int(_ v: Int64) { separate(); bytes.append(contentsOf: String(v).utf8) }
    public mutating func bool(_ v: Bool) { separate(); bytes.append(contentsOf: v ? Array("true".utf8) : Array("false".utf8)) }
    public mutating func null() { separate(); bytes.append(contentsOf: Array("null".utf8)) }

    public mutating func member(_ k: String, _ s: String) { key(k); string(s) }
    public mutating func member(_ k: String, _ v: Int64) { key(k); int(v) }

    private mutating func separate() {
        guard depth > 0 else { return }
        let bit = UInt64(1) << (depth - 1)
        if commaBits & bit != 0 { bytes.append(0x2C) }
        commaBits |= bit
    }

    private mutating func debugPush() {
        #if DEBUG
        lastKey.append(nil)
        #endif
    }

    private mutating func debugPop() {
        #if DEBUG
        lastKey.removeLast()
        #endif
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// RFC 8785 §3.2.2.2: escape only `"`, `\` and control characters; short forms where JSON has them.
    private mutating func appendString(_ s: String) {
        bytes.append(0x22)
        // Fast path: most strings (hex digests, IDs, times) need no escaping at all; scan the
        // contiguous UTF-8 directly (generic UTF8View iteration is several times slower).
        var s = s
        let plain: Bool = s.withUTF8 { buf in
            for b in buf where b < 0x20 || b == 0x22 || b == 0x5C { return false }
            bytes.append(contentsOf: buf)
            return true
        }
        if plain {
            bytes.append(0x22)
            return
        }
        for b in s.utf8 {
            switch b {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x08: bytes.append(0x5C); bytes.append(0x62)
            case 0x0C: bytes.append(0x5C); bytes.append(0x66)
            case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
            case 0x0D: bytes.append(0x5C); bytes.append(0x72)
            case 0x09: bytes.append(0x5C); bytes.append(0x74)
            case 0x00..<0x20:
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, Self.hex[Int(b >> 4)], Self.hex[Int(b & 0xF)]])
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
    }
}

/// A value for the canonical encoder when the shape is not fixed (manifests, the environment record,
/// the capture log); objects are written with their keys sorted, through the same writer as ledger
/// entries.
public indirect enum CanonicalValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case null
    case array([CanonicalValue])
    case object([String: CanonicalValue])

    /// A string array, the common case in the capture metadata.
    public static func strings(_ a: [String]) -> CanonicalValue { .array(a.map { .string($0) }) }

    /// A value, or `null` when there is none.
    public static func optional(_ s: String?) -> CanonicalValue { s.map { .string($0) } ?? .null }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }

    public func write(into w: inout CanonicalJSONWriter) {
        switch self {
        case .string(let s): w.string(s)
        case .int(let i): w.int(i)
        case .bool(let b): w.bool(b)
        case .null: w.null()
        case .array(let a):
            w.beginArray()
            for v in a { v.write(into: &w) }
            w.endArray()
        case .object(let o):
            w.beginObject()
            for k in o.keys.sorted(by: { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }) {
                w.key(k)
                o[k]!.write(into: &w)
            }
            w.endObject()
        }
    }

    public var canonicalBytes: [UInt8] {
        var w = CanonicalJSONWriter()
        write(into: &w)
        return w.bytes
    }
}
