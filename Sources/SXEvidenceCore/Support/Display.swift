/// Escaping of untrusted text before it reaches a terminal or a page (sxevidence(1), DISPLAY).
/// A backslash becomes `\\`; every C0 control (newline and tab included), DEL, C1 control, and
/// bidirectional control (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) becomes
/// `\u{HEX}` (lowercase hex, no padding). Everything else is kept, so Chinese text reads as it is.
public enum Display {
    public static func needsEscape(_ v: UInt32) -> Bool {
        v < 0x20 || (v >= 0x7F && v <= 0x9F) || v == 0x061C || v == 0x200E || v == 0x200F ||
            (v >= 0x202A && v <= 0x202E) || (v >= 0x2066 && v <= 0x2069)
    }

    public static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0 == "\\" || needsEscape($0.value) }) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for u in s.unicodeScalars {
            if u == "\\" { out += "\\\\" } else if needsEscape(u.value) { out += "\\u{" + String(u.value, radix: 16) + "}" } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    /// The backstop for whole output lines: like `escape`, but newlines and tabs (our own line and
    /// field separators) are kept and backslashes left alone (fields from outside were escaped
    /// already where they were put into the line).
    public static func sanitizeLines(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0 != "\n" && $0 != "\t" && needsEscape($0.value) }) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            if u != "\n" && u != "\t" && needsEscape(u.value) { out += "\\u{" + String(u.value, radix: 16) + "}" } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    /// An evidence ID as documented (sxevidence-ledger(5)): six ASCII digits, `-`, and the entry's
    /// index + 1 in decimal, zero-padded to at least six digits.
    public static func isEvidenceID(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 13, b.count <= 26, b[6] == 0x2D else { return false }
        let node = b[0..<6], seq = b[7...]
        guard node.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), seq.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        // No padding beyond six digits, and not all zeros (the first entry is 000001).
        if seq.count > 6 && seq.first == 0x30 { return false }
        return seq.contains { $0 != 0x30 }
    }
}
