/// The one canonical encoder: RFC 8785 (JCS) restricted to objects, arrays, strings and non-negative
/// integers. Callers write members in ascending key order (all our keys are ASCII, so
/// UTF-16 order equals byte order); debug builds check it.
public struct CanonicalJSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needComma: [Bool] = []
    #if DEBUG
    private var lastKey: [String?] = []
    #endif

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    public mutating func beginObject() { separate(); bytes.append(0x7B); needComma.append(false); debugPush() }
    public mutating func endObject() { bytes.append(0x7D); needComma.removeLast(); debugPop() }
    public mutating func beginArray() { separate(); bytes.append(0x5B); needComma.append(false); debugPush() }
    public mutating func endArray() { bytes.append(0x5D); needComma.removeLast(); debugPop() }

    public mutating func key(_ k: String) {
        #if DEBUG
        if let prev = lastKey[lastKey.count - 1] { assert(prev < k, "canonical keys out of order: \(prev) \(k)") }
        lastKey[lastKey.count - 1] = k
        #endif
        separate()
        appendString(k)
        bytes.append(0x3A)
        needComma[needComma.count - 1] = false
    }

    public mutating func string(_ s: String) { separate(); appendString(s) }
    public mutating func int(_ v: Int64) { separate(); bytes.append(contentsOf: String(v).utf8) }

    public mutating func member(_ k: String, _ s: String) { key(k); string(s) }
    public mutating func member(_ k: String, _ v: Int64) { key(k); int(v) }

    private mutating func separate() {
        guard !needComma.isEmpty else { return }
        if needComma[needComma.count - 1] { bytes.append(0x2C) }
        needComma[needComma.count - 1] = true
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
        // Fast path: most strings (hex digests, IDs, times) need no escaping at all.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) {
            bytes.append(contentsOf: s.utf8)
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
