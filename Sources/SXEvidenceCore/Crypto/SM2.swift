import Foundation
internal import CSXOpenSSL

/// An SM2 key (GB/T 32918) held by OpenSSL; signatures use SM3 and a distinguishing ID.
public final class SM2Key: @unchecked Sendable {
    /// GB/T 32918.2 / GM/T 0009 default user ID, written into sxevidence-ledger(5).
    public static let defaultID: [UInt8] = Array("1234567812345678".utf8)

    /// DER SubjectPublicKeyInfo prefix for an id-ecPublicKey key on the SM2 curve (1.2.156.10197.1.301),
    /// followed by the 65-byte uncompressed point.
    static let spkiPrefix: [UInt8] = Hex.decode("3059301306072a8648ce3d020106082a811ccf5501822d034200")!

    let pkey: OpaquePointer
    public let hasPrivate: Bool

    init(pkey: OpaquePointer, hasPrivate: Bool) {
        self.pkey = pkey
        self.hasPrivate = hasPrivate
    }

    deinit { EVP_PKEY_free(pkey) }

    public static func generate() throws -> SM2Key {
        guard let k = sx_keygen_sm2() else { throw OpenSSL.failure("SM2 keygen") }
        return SM2Key(pkey: k, hasPrivate: true)
    }

    public static func fromPEM(_ pem: String) throws -> SM2Key {
        let (k, priv) = try PEMKeys.read(pem)
        guard EVP_PKEY_is_a(k, "SM2") == 1 else {
            EVP_PKEY_free(k)
            throw EvidenceError(.dataError, zh: "不是 SM2 密钥", en: "not an SM2 key")
        }
        return SM2Key(pkey: k, hasPrivate: priv)
    }

    /// From the 65-byte uncompressed point 0x04 || X || Y.
    public static func fromPublicPoint(_ point: [UInt8]) throws -> SM2Key {
        let bad = EvidenceError(.dataError, zh: "SM2 公钥无效", en: "invalid SM2 public key")
        guard point.count == 65, point[0] == 0x04 else { throw bad }
        let der = spkiPrefix + point
        let k: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_PUBKEY(nil, &p, buf.count)
        }
        guard let k else { _ = OpenSSL.lastError(); throw bad }
        // d2i_PUBKEY yields an EC key; mark it as SM2 so the SM2 signature scheme is used.
        guard EVP_PKEY_is_a(k, "SM2") == 1 || EVP_PKEY_set_type(k, EVP_PKEY_SM2) == 1 else {
            EVP_PKEY_free(k)
            throw bad
        }
        return SM2Key(pkey: k, hasPrivate: false)
    }

    /// The 65-byte uncompressed public point.
    public var publicPoint: [UInt8] {
        var out = [UInt8](repeating: 0, count: 65)
        let n = sx_pkey_get_encoded_public(pkey, &out, 65)
        precondition(n == 65, "SM2 public point")
        return out
    }

    public func privatePEM() throws -> String { try PEMKeys.writePrivate(pkey) }
    public func publicPEM() throws -> String { try PEMKeys.writePublic(pkey) }

    /// DER-encoded SM2 signature (SEQUENCE { r, s }) over SM3(Z_A || message).
    public func sign(_ message: [UInt8], id: [UInt8] = SM2Key.defaultID) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw OpenSSL.failure("EVP_MD_CTX_new") }
        defer { sx_md_ctx_free_with_pkey_ctx(ctx) }
        guard sx_sm2_digest_init(ctx, pkey, DigestAlgorithm.sm3MD, id, id.count, 1) == 1 else {
            throw OpenSSL.failure("SM2 sign init")
        }
        var len = 0
        guard EVP_DigestSign(ctx, nil, &len, message, message.count) == 1 else { throw OpenSSL.failure("SM2 sign") }
        var sig = [UInt8](repeating: 0, count: len)
        guard EVP_DigestSign(ctx, &sig, &len, message, message.count) == 1 else { throw OpenSSL.failure("SM2 sign") }
        return Array(sig.prefix(len))
    }

    public func verify(_ signature: [UInt8], message: [UInt8], id: [UInt8] = SM2Key.defaultID) -> Bool {
        guard !signature.isEmpty, signature.count < 128, let ctx = EVP_MD_CTX_new() else { return false }
        defer { sx_md_ctx_free_with_pkey_ctx(ctx) }
        guard sx_sm2_digest_init(ctx, pkey, DigestAlgorithm.sm3MD, id, id.count, 0) == 1 else {
            _ = OpenSSL.lastError()
            return false
        }
        let ok = EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
        if !ok { _ = OpenSSL.lastError() }
        return ok
    }
}

/// PEM reading and writing of keys, shared by both key types.
enum PEMKeys {
    static func read(_ pem: String) throws -> (OpaquePointer, Bool) {
        let bytes = Array(pem.utf8)
        return try bytes.withUnsafeBytes { buf -> (OpaquePointer, Bool) in
            guard let bio = BIO_new_mem_buf(buf.baseAddress, Int32(buf.count)) else { throw OpenSSL.failure("BIO") }
            defer { BIO_free(bio) }
            if pem.contains("PRIVATE KEY") {
                guard let k = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
                    _ = OpenSSL.lastError()
                    throw EvidenceError(.dataError, zh: "无法读取 PEM 私钥", en: "cannot read PEM private key")
                }
                return (k, true)
            }
            guard let k = PEM_read_bio_PUBKEY(bio, nil, nil, nil) else {
                _ = OpenSSL.lastError()
                throw EvidenceError(.dataError, zh: "无法读取 PEM 公钥", en: "cannot read PEM public key")
            }
            return (k, false)
        }
    }

    static func writePrivate(_ k: OpaquePointer) throws -> String {
        try withMemBIO { PEM_write_bio_PrivateKey($0, k, nil, nil, 0, nil, nil) }
    }

    static func writePublic(_ k: OpaquePointer) throws -> String {
        try withMemBIO { PEM_write_bio_PUBKEY($0, k) }
    }

    private static func withMemBIO(_ body: (OpaquePointer) -> Int32) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSL.failure("BIO") }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw OpenSSL.failure("PEM write") }
        var p: UnsafeMutablePointer<CChar>?
        let n = sx_bio_get_mem_data(bio, &p)
        guard let p, n > 0 else { throw OpenSSL.failure("PEM write") }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }
}
