internal import CSXOpenSSL

/// An OpenSSL key (`EVP_PKEY`), owned and freed in deinit: the one type that holds key pointers.
/// `Ed25519Key`, `SM2Key` and the TSA code are built on it; other files only borrow the pointer
/// inside `withHandle` (files of this folder) and never keep it.
///
/// `@unchecked Sendable`: immutable after construction, and OpenSSL 3 allows one `EVP_PKEY` to be
/// used by concurrent sign and verify operations (each has its own context).
final class EVPKey: @unchecked Sendable {
    private let pkey: OpaquePointer
    let hasPrivate: Bool

    /// Takes ownership of `pkey`.
    private init(owning pkey: OpaquePointer, hasPrivate: Bool) {
        self.pkey = pkey
        self.hasPrivate = hasPrivate
    }

    deinit { EVP_PKEY_free(pkey) }

    /// Borrow the pointer for one OpenSSL call; it must not escape `body`.
    func withHandle<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(pkey) }
    }

    enum Algorithm: String { case ed25519 = "Ed25519", sm2 = "SM2", p256 = "P-256" }

    static func generate(_ a: Algorithm) throws -> EVPKey {
        let k: OpaquePointer?
        switch a {
        case .ed25519: k = sx_keygen_ed25519()
        case .sm2: k = sx_keygen_sm2()
        case .p256: k = sx_keygen_p256()
        }
        guard let k else { throw OpenSSL.failure("\(a.rawValue) keygen") }
        return EVPKey(owning: k, hasPrivate: true)
    }

    static func ed25519(seed: [UInt8]) throws -> EVPKey {
        guard seed.count == 32, let k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, seed, 32) else {
            throw OpenSSL.failure("Ed25519 private key")
        }
        return EVPKey(owning: k, hasPrivate: true)
    }

    /// nil when the bytes are not a public key.
    static func ed25519(publicKey raw: [UInt8]) -> EVPKey? {
        guard raw.count == 32, let k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, raw, 32) else {
            _ = OpenSSL.lastError()
            return nil
        }
        return EVPKey(owning: k, hasPrivate: false)
    }

    /// DER SubjectPublicKeyInfo prefix for an id-ecPublicKey key on the SM2 curve (1.2.156.10197.1.301),
    /// followed by the 65-byte uncompressed point.
    private static let sm2SPKIPrefix: [UInt8] = Hex.decode("3059301306072a8648ce3d020106082a811ccf5501822d034200")!

    /// From the 65-byte uncompressed point 0x04 || X || Y; nil when it is not a point on the curve.
    static func sm2(publicPoint point: [UInt8]) -> EVPKey? {
        guard point.count == 65, point[0] == 0x04 else { return nil }
        let der = sm2SPKIPrefix + point
        let k: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p: UnsafePointer<UInt8>? = buf.baseAddress
            return d2i_PUBKEY(nil, &p, buf.count)
        }
        guard let k else { _ = OpenSSL.lastError(); return nil }
        let key = EVPKey(owning: k, hasPrivate: false)
        // d2i_PUBKEY yields an EC key; mark it as SM2 so the SM2 signature scheme is used.
        guard key.isSM2 || EVP_PKEY_set_type(k, EVP_PKEY_SM2) == 1 else { _ = OpenSSL.lastError(); return nil }
        return key
    }

    /// A PEM private key (PKCS#8) when the text has one, else a PEM public key.
    static func read(pem: String) throws -> EVPKey {
        let bytes = Array(pem.utf8)
        return try bytes.withUnsafeBytes { buf -> EVPKey in
            guard let bio = BIO_new_mem_buf(buf.baseAddress, Int32(buf.count)) else { throw OpenSSL.failure("BIO") }
            defer { BIO_free(bio) }
            if pem.contains("PRIVATE KEY") {
                guard let k = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
                    _ = OpenSSL.lastError()
                    throw EvidenceError.dataError(zh: "无法读取 PEM 私钥", en: "cannot read PEM private key")
                }
                return EVPKey(owning: k, hasPrivate: true)
            }
            guard let k = PEM_read_bio_PUBKEY(bio, nil, nil, nil) else {
                _ = OpenSSL.lastError()
                throw EvidenceError.dataError(zh: "无法读取 PEM 公钥", en: "cannot read PEM public key")
            }
            return EVPKey(owning: k, hasPrivate: false)
        }
    }

    var isEd25519: Bool { EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 }
    var isSM2: Bool { EVP_PKEY_is_a(pkey, "SM2") == 1 }

    /// The 32-byte RFC 8032 public key of an Ed25519 key.
    var rawPublicKey: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var len = 32
        precondition(EVP_PKEY_get_raw_public_key(pkey, &out, &len) == 1 && len == 32)
        return out
    }

    /// The 65-byte uncompressed public point of an EC (SM2) key.
    var encodedPublicPoint: [UInt8] {
        var out = [UInt8](repeating: 0, count: 65)
        let n = sx_pkey_get_encoded_public(pkey, &out, 65)
        precondition(n == 65, "SM2 public point")
        return out
    }

    func privatePEM() throws -> String { try Self.withMemBIO { PEM_write_bio_PrivateKey($0, pkey, nil, nil, 0, nil, nil) } }
    func publicPEM() throws -> String { try Self.withMemBIO { PEM_write_bio_PUBKEY($0, pkey) } }

    private static func withMemBIO(_ body: (OpaquePointer) -> Int32) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSL.failure("BIO") }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw OpenSSL.failure("PEM write") }
        var p: UnsafeMutablePointer<CChar>?
        let n = sx_bio_get_mem_data(bio, &p)
        guard let p, n > 0 else { throw OpenSSL.failure("PEM write") }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    // MARK: Ed25519 (pure EdDSA: no digest)

    func ed25519Sign(_ message: [UInt8]) throws -> [UInt8] {
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

    func ed25519Verify(_ signature: [UInt8], message: [UInt8]) -> Bool {
        guard signature.count == 64, let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 else { _ = OpenSSL.lastError(); return false }
        let ok = EVP_DigestVerify(ctx, signature, 64, message, message.count) == 1
        if !ok { _ = OpenSSL.lastError() }
        return ok
    }

    // MARK: SM2 with SM3 and a distinguishing ID (GB/T 32918.2)

    /// DER-encoded signature (SEQUENCE { r, s }) over SM3(Z_A || message).
    func sm2Sign(_ message: [UInt8], id: [UInt8]) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw OpenSSL.failure("EVP_MD_CTX_new") }
        defer { sx_md_ctx_free_with_pkey_ctx(ctx) }
        guard sx_sm2_digest_init(ctx, pkey, EVPDigestMethod.md(.sm3), id, id.count, 1) == 1 else {
            throw OpenSSL.failure("SM2 sign init")
        }
        var len = 0
        guard EVP_DigestSign(ctx, nil, &len, message, message.count) == 1 else { throw OpenSSL.failure("SM2 sign") }
        var sig = [UInt8](repeating: 0, count: len)
        guard EVP_DigestSign(ctx, &sig, &len, message, message.count) == 1 else { throw OpenSSL.failure("SM2 sign") }
        return Array(sig.prefix(len))
    }

    func sm2Verify(_ signature: [UInt8], message: [UInt8], id: [UInt8]) -> Bool {
        guard !signature.isEmpty, signature.count < 128, let ctx = EVP_MD_CTX_new() else { return false }
        defer { sx_md_ctx_free_with_pkey_ctx(ctx) }
        guard sx_sm2_digest_init(ctx, pkey, EVPDigestMethod.md(.sm3), id, id.count, 0) == 1 else {
            _ = OpenSSL.lastError()
            return false
        }
        let ok = EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
        if !ok { _ = OpenSSL.lastError() }
        return ok
    }
}
