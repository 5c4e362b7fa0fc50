/// Ed25519 note keys: signature type 0x01 of c2sp.org/signed-note.
public struct Ed25519NoteVerifier: NoteVerifier {
    public static let type: [UInt8] = [0x01]
    public let name: String
    public let publicKey: [UInt8]
    public let keyID: UInt32
    public var algorithm: String { "Ed25519" }
    let key: Ed25519Key

    public init(name: String, publicKey: [UInt8]) throws {
        self.name = name
        self.publicKey = publicKey
        self.key = try Ed25519Key.fromPublic(publicKey)
        self.keyID = NoteKeyID.compute(name: name, type: Self.type, publicKey: publicKey)
    }

    public func verify(message: [UInt8], signature: [UInt8]) -> Bool { key.verify(signature, message: message) }

    /// `name+hex(keyID)+base64(0x01 || pubkey)`
    public var vkey: String { "\(name)+\(NoteKeyID.hex(keyID))+\(Base64.encode(Self.type + publicKey))" }
}

/// SM2-with-SM3 note keys: a private signature type under signed-note's 0xff escape,
/// `0xff || "sxevidence/sm2-sm3/v1"`, public key the 65-byte uncompressed point, signature DER (r, s),
/// distinguishing ID "1234567812345678". Specified in sxevidence-ledger(5).
public struct SM2NoteVerifier: NoteVerifier {
    public static let type: [UInt8] = [0xFF] + Array("sxevidence/sm2-sm3/v1".utf8)
    public let name: String
    public let publicPoint: [UInt8]
    public let keyID: UInt32
    public var algorithm: String { "SM2-SM3" }
    let key: SM2Key

    public init(name: String, publicPoint: [UInt8]) throws {
        self.name = name
        self.publicPoint = publicPoint
        self.key = try SM2Key.fromPublicPoint(publicPoint)
        self.keyID = NoteKeyID.compute(name: name, type: Self.type, publicKey: publicPoint)
    }

    public func verify(message: [UInt8], signature: [UInt8]) -> Bool { key.verify(signature, message: message) }

    public var vkey: String { "\(name)+\(NoteKeyID.hex(keyID))+\(Base64.encode(Self.type + publicPoint))" }
}

public struct Ed25519NoteSigner: NoteSigner {
    public let name: String
    public let keyID: UInt32
    let key: Ed25519Key

    public init(name: String, key: Ed25519Key) {
        self.name = name
        self.key = key
        self.keyID = NoteKeyID.compute(name: name, type: Ed25519NoteVerifier.type, publicKey: key.publicKey)
    }

    public func sign(_ message: [UInt8]) throws -> [UInt8] { try key.sign(message) }
}

public struct SM2NoteSigner: NoteSigner {
    public let name: String
    public let keyID: UInt32
    let key: SM2Key

    public init(name: String, key: SM2Key) {
        self.name = name
        self.key = key
        self.keyID = NoteKeyID.compute(name: name, type: SM2NoteVerifier.type, publicKey: key.publicPoint)
    }

    public func sign(_ message: [UInt8]) throws -> [UInt8] { try key.sign(message) }
}

/// Parse a verifier key of either type.
public enum VerifierKey {
    public static func parse(_ vkey: String) throws -> NoteVerifier {
        let bad = EvidenceError(.dataError, zh: "验证公钥格式错误：\(vkey)", en: "malformed verifier key: \(vkey)")
        let parts = vkey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let idBytes = Hex.decode(String(parts[1])), idBytes.count == 4,
              let material = Base64.decode(String(parts[2])), !material.isEmpty else { throw bad }
        let id = idBytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let v: NoteVerifier
        if material[0] == 0x01 {
            v = try Ed25519NoteVerifier(name: String(parts[0]), publicKey: Array(material.dropFirst()))
        } else if material.starts(with: SM2NoteVerifier.type) {
            v = try SM2NoteVerifier(name: String(parts[0]), publicPoint: Array(material.dropFirst(SM2NoteVerifier.type.count)))
        } else {
            throw bad
        }
        guard v.keyID == id else { throw bad }
        return v
    }
}
