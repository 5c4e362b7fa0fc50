import ArgumentParser
import Foundation
import SXEvidenceCore

// Helpers shared by the subcommands: argument types, lookups and small conversions. Each
// subcommand lives in its own file in Commands/; what two or more of them need lives here.

func usageError(_ zh: String, _ en: String) -> EvidenceError { EvidenceError(.usage, zh: zh, en: en) }

/// A size such as `512`, `64K`, `200M` or `2G` (binary multiples), positive and within Int64.
struct ByteSize: ExpressibleByArgument, Sendable, Equatable {
    let bytes: Int64

    init(bytes: Int64) { self.bytes = bytes }

    init?(argument: String) {
        let u = argument.uppercased()
        let shift: Int64 = u.hasSuffix("G") ? 30 : u.hasSuffix("M") ? 20 : u.hasSuffix("K") ? 10 : 0
        let digits = shift == 0 ? u : String(u.dropLast())
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let n = Int64(digits), n > 0 else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: Int64(1) << shift)
        guard !overflow else { return nil }
        bytes = v
    }

    var defaultValueDescription: String { "\(bytes)" }
}

/// A duration such as `90`, `90s`, `15m` or `2h`: positive and finite, in seconds.
struct Seconds: ExpressibleByArgument, Sendable, Equatable {
    let value: Double

    init(_ value: Double) { self.value = value }

    init?(argument: String) {
        let unit = argument.last.map(String.init) ?? ""
        let mult: Double = unit == "h" ? 3600 : unit == "m" ? 60 : unit == "s" ? 1 : 0
        let number = mult == 0 ? Substring(argument) : argument.dropLast()
        guard let v = Double(number), v.isFinite, v > 0 else { return nil }
        value = v * (mult == 0 ? 1 : mult)
    }
}

/// The entry with this evidence ID, or the documented not-found error.
func lookupEntry(_ home: NodeHome, _ id: String) throws -> LedgerEntry {
    guard let e = try home.ledger.entry(evidenceID: id) else {
        throw EvidenceError(.notFound, zh: "账本中没有证据 \(id)", en: "no evidence \(id) in this ledger")
    }
    return e
}

/// The checkpoint at `size` (latest when nil), with the documented errors for a bad size.
func checkpointAt(_ home: NodeHome, _ size: Int64?) throws -> Ledger.StoredCheckpoint {
    let n = try home.ledger.size()
    if let size {
        guard size >= 0, size <= n else {
            throw usageError("--size 须在 0 到 \(n) 之间：\(size)", "--size must be between 0 and \(n): \(size)")
        }
        guard let cp = try home.ledger.checkpoint(size: size) else {
            throw EvidenceError(.notFound, zh: "没有在大小 \(size) 处签署的检查点", en: "no checkpoint was signed at size \(size)")
        }
        return cp
    }
    guard let cp = try home.ledger.checkpoint() else {
        throw EvidenceError(.notFound, zh: "账本中还没有检查点", en: "the ledger has no checkpoint yet")
    }
    return cp
}

/// The city's Ed25519 key from a C2SP verifier key (`--city-key`).
func parseEd25519VKey(_ s: String) throws -> [UInt8] {
    guard let v = try VerifierKey.parse(s) as? Ed25519NoteVerifier else {
        throw usageError("--city-key 须为 Ed25519 验证公钥（sxevidence key 的第一行）", "--city-key must be an Ed25519 verifier key (first line of sxevidence key)")
    }
    return v.publicKey
}

/// The C2SP verifier key line of a note verifier.
func vkeyOf(_ v: NoteVerifier) -> String? {
    (v as? Ed25519NoteVerifier)?.vkey ?? (v as? SM2NoteVerifier)?.vkey
}

/// A UUID as one decimal integer, for an OID under 2.25 (ITU-T X.667).
func uuidInteger() -> String {
    let u = UUID().uuid
    let bytes = [u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7, u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15]
    var digits: [UInt8] = [0]
    for b in bytes {
        var carry = Int(b)
        for i in 0..<digits.count {
            let v = Int(digits[i]) * 256 + carry
            digits[i] = UInt8(v % 10)
            carry = v / 10
        }
        while carry > 0 { digits.append(UInt8(carry % 10)); carry /= 10 }
    }
    return String(digits.reversed().map { Character(String($0)) })
}
