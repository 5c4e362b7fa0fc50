/// An Ed25519 key (RFC 8032), held by OpenSSL through `EVPKey`. Private keys are PKCS#8 PEM on disk.
public final class Ed25519Key: Sendable {
    let key: EVPKey
    public var hasPrivate: Bool { key.hasPrivate }

    init(_ key: EVPKey) { self.key = key }

    public static func generate() throws -> Ed25519Key { Ed25519Key(try EVPKey.generate(.ed25519)) }

    public static func fromSeed(_ seed: [UInt8]) throws -> Ed25519Key { Ed25519Key(try EVPKey.ed25519(seed: seed)) }

    public static func fromPublic(_ raw: [UInt8]) throws -> Ed25519Key {
        guard let k = EVPKey.ed25519(publicKey: raw) else {
            throw EvidenceError.dataError(zh: "Ed25519 公钥无效", en: "invalid Ed25519 public key")
        }
        return Ed25519Key(k)
    }

    public static func fromPEM(_ pem: String) throws -> Ed25519Key {
        let k = try EVPKey.read(pem: pem)
        guard k.isEd25519 else { throw EvidenceError.dataError(zh: "不是 Ed25519 密钥", en: "not an Ed25519 key") }
        return Ed25519Key(k)
    }

    /// The 32-byte RFC 8032 public key.
    public var publicKey: [UInt8] { key.rawPublicKey }

    public func privatePEM() throws -> String { try key.privatePEM() }
    public func publicPEM() throws -> String { try key.publicPEM() }

    public func sign(_ message: [UInt8]) throws -> [UInt8] { try key.ed25519Sign(message) }

    public func verify(_ signature: [UInt8], message: [UInt8]) -> Bool { key.ed25519Verify(signature, message: message) }
}
