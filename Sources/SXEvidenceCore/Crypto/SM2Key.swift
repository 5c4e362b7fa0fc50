/// An SM2 key (GB/T 32918), held by OpenSSL through `EVPKey`; signatures use SM3 and a
/// distinguishing ID.
public final class SM2Key: Sendable {
    /// GB/T 32918.2 / GM/T 0009 default user ID, written into sxevidence-ledger(5).
    public static let defaultID: [UInt8] = Array("1234567812345678".utf8)

    let key: EVPKey
    public var hasPrivate: Bool { key.hasPrivate }

    init(_ key: EVPKey) { self.key = key }

    public static func generate() throws -> SM2Key { SM2Key(try EVPKey.generate(.sm2)) }

    public static func fromPEM(_ pem: String) throws -> SM2Key {
        let k = try EVPKey.read(pem: pem)
        guard k.isSM2 else { throw EvidenceError.dataError(zh: "不是 SM2 密钥", en: "not an SM2 key") }
        return SM2Key(k)
    }

    /// From the 65-byte uncompressed point 0x04 || X || Y.
    public static func fromPublicPoint(_ point: [UInt8]) throws -> SM2Key {
        guard let k = EVPKey.sm2(publicPoint: point) else {
            throw EvidenceError.dataError(zh: "SM2 公钥无效", en: "invalid SM2 public key")
        }
        return SM2Key(k)
    }

    /// The 65-byte uncompressed public point.
    public var publicPoint: [UInt8] { key.encodedPublicPoint }

    public func privatePEM() throws -> String { try key.privatePEM() }
    public func publicPEM() throws -> String { try key.publicPEM() }

    /// DER-encoded SM2 signature (SEQUENCE { r, s }) over SM3(Z_A || message).
    public func sign(_ message: [UInt8], id: [UInt8] = SM2Key.defaultID) throws -> [UInt8] {
        try key.sm2Sign(message, id: id)
    }

    public func verify(_ signature: [UInt8], message: [UInt8], id: [UInt8] = SM2Key.defaultID) -> Bool {
        key.sm2Verify(signature, message: message, id: id)
    }
}
