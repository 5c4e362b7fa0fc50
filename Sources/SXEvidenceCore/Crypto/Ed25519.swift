import Foundation
internal import CSXOpenSSL

/// An Ed25519 key (RFC 8032) held by OpenSSL. Private keys are PKCS#8 PEM on disk.
public final class Ed25519Key: @unchecked Sendable {
    let pkey: OpaquePointer
    public let hasPrivate: Bool

    init(pkey: OpaquePointer, hasPrivate: Bool) {
        self.pkey = pkey
        self.hasPrivate = hasPrivate
    }

    deinit { EVP_PKEY_free(pkey) }

    public static func generate() throws -> Ed25519Key {
        guard let k = sx_keygen_ed25519() else { throw OpenSSL.failure("Ed25519 keygen") }
        return Ed25519Key(pkey: k, hasPrivate: true)
    }

    public static func fromSeed(_ seed: [UInt8]) throws -> Ed25519Key {
        guard seed.count == 32, let k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, seed, 32) else {
            throw OpenSSL.failure("Ed25519 private key")
        }
        return Ed25519Key(pkey: k, hasPrivate: true)
    }

    public static func fromPublic(_ raw: [UInt8]) throws -> Ed25519Key {
        guard raw.count == 32, let k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, raw, 32) else {
            throw EvidenceError(.dataError, zh: "Ed25519 公钥无效", en: "invalid Ed25519 public key")
        }
        return Ed25519Key(pkey: k, hasPrivate: false)
    }

    public static func fromPEM(_ pem: String) throws -> Ed25519Key {
        let (k, priv) = try PEMKeys.read(pem)
        guard EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519 else {
            EVP_PKEY_free(k)
            throw EvidenceError(.dataError, zh: "不是 Ed25519 密钥", en: "not an Ed25519 key")
        }
        return Ed25519Key(pkey: k, hasPrivate: priv)
    }

    /// The 32-byte RFC 8032 public key.
    public var publicKey: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var len = 32
        precondition(EVP_PKEY_get_raw_public_key(pkey, &out, &len) == 1 && len == 32)
        return out
    }

    public func privatePEM() throws -> String { try PEMKeys.writePrivate(pkey) }
    public func publicPEM() throws -> String { try PEMKeys.writePublic(pkey) }

    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw OpenSSL.failure("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, nil, nil, pkey) == 1 else { throw OpenSSL.failure("Ed25519 sign init") }
        var sig = [UInt8](repeating: 0, count: 64)
        var len = 64
        guard EVP_DigestSign(ctx, &sig, &len, message, message.count) == 1, len == 64 else {
            throw OpenSSL.failure("Ed25519 sign")
        }
        return sig
    }

    public func verify(_ signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == 64, let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 else { _ = OpenSSL.lastError(); return false }
        let ok = EVP_DigestVerify(ctx, signature, 64, message, message.count) == 1
        if !ok { _ = OpenSSL.lastError() }
        return ok
    }
}
