/// C2SP signed-note (c2sp.org/signed-note): text, a blank line, then `— name base64(keyID || sig)` lines.
public struct SignedNote: Sendable, Equatable {
    public struct Signature: Sendable, Equatable {
        public var name: String
        public var keyID: UInt32
        public var signature: [UInt8]

        public var line: String {
            let id = withUnsafeBytes(of: keyID.bigEndian) { Array($0) }
            return "— \(name) \(Base64.encode(id + signature))\n"
        }
    }

    public var text: String          // includes the final newline
    public var signatures: [Signature]

    public init(text: String, signatures: [Signature]) {
        self.text = text
        self.signatures = signatures
    }

    public var serialized: String { text + "\n" + signatures.map(\.line).joined() }

    static let maxSignatures = 64

    public static func parse(_ s: String) throws -> SignedNote {
        let bad = { (zh: String, en: String) in EvidenceError(.dataError, zh: "签名注记格式错误：\(zh)", en: "malformed signed note: \(en)") }
        guard s.hasSuffix("\n") else { throw bad("缺少结尾换行", "missing final newline") }
        for u in s.unicodeScalars where u.value < 0x20 && u != "\n" {
            throw bad("含控制字符", "control character")
        }
        // The text ends at the last blank line.
        guard let sep = s.range(of: "\n\n", options: .backwards) else { throw bad("缺少空行分隔", "no blank line before signatures") }
        let text = String(s[..<sep.lowerBound]) + "\n"
        let sigPart = s[sep.upperBound...]
        var sigs: [Signature] = []
        for line in sigPart.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            guard line.hasPrefix("— ") else { throw bad("签名行须以破折号开头", "signature line must start with an em dash") }
            let rest = line.dropFirst(2)
            let parts = rest.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[0].contains("+") else { throw bad("签名行格式错误", "bad signature line") }
            guard let raw = Base64.decode(String(parts[1])), raw.count > 4 else { throw bad("签名不是有效的 base64", "signature is not valid base64") }
            let id = raw.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            sigs.append(Signature(name: String(parts[0]), keyID: id, signature: Array(raw.dropFirst(4))))
        }
        guard !sigs.isEmpty else { throw bad("没有签名", "no signatures") }
        guard sigs.count <= maxSignatures else { throw bad("签名过多", "too many signatures") }
        return SignedNote(text: text, signatures: sigs)
    }
}

/// A note verifier: one key, one signature type.
public protocol NoteVerifier: Sendable {
    var name: String { get }
    var keyID: UInt32 { get }
    var algorithm: String { get }
    func verify(message: [UInt8], signature: [UInt8]) -> Bool
}

/// A note signer: the private side of a NoteVerifier.
public protocol NoteSigner {
    var name: String { get }
    var keyID: UInt32 { get }
    func sign(_ message: [UInt8]) throws -> [UInt8]
}

public enum NoteKeyID {
    /// SHA-256(name || 0x0A || type || public key)[:4], big-endian.
    public static func compute(name: String, type: [UInt8], publicKey: [UInt8]) -> UInt32 {
        let h = Hashing.sha256(Array(name.utf8) + [0x0A] + type + publicKey)
        return h.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    public static func hex(_ id: UInt32) -> String {
        Hex.encode(withUnsafeBytes(of: id.bigEndian) { Array($0) })
    }
}

extension SignedNote {
    /// Verification results per signature line, for the verifiers we know; unknown keys are skipped.
    public func check(with verifiers: [NoteVerifier]) -> [(verifier: NoteVerifier, ok: Bool)] {
        let msg = Array(text.utf8)
        var out: [(NoteVerifier, Bool)] = []
        for v in verifiers {
            let matching = signatures.filter { $0.name == v.name && $0.keyID == v.keyID }
            if matching.isEmpty { continue }
            out.append((v, matching.allSatisfy { v.verify(message: msg, signature: $0.signature) }))
        }
        return out
    }

    public static func sign(text: String, with signers: [NoteSigner]) throws -> SignedNote {
        let msg = Array(text.utf8)
        var sigs: [Signature] = []
        for s in signers {
            sigs.append(Signature(name: s.name, keyID: s.keyID, signature: try s.sign(msg)))
        }
        return SignedNote(text: text, signatures: sigs)
    }
}
