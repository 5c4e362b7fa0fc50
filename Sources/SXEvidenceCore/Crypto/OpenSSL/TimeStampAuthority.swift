import Synchronization
internal import CSXOpenSSL

/// An RFC 3161 time-stamping authority over OpenSSL's TS_RESP_CTX: unique random 127-bit serial
/// numbers, one-second accuracy, the node's policy OID, SHA-256/384/512 and SM3 imprints accepted.
/// The context is used by one request at a time (a `Mutex`).
public final class TimeStampAuthority: Sendable {
    /// The owned TS_RESP_CTX. `@unchecked Sendable`: an immutable box, configured before it goes
    /// into `responder` and only opened under that lock afterwards.
    private final class ResponderContext: @unchecked Sendable {
        let ctx: OpaquePointer
        init(owning c: OpaquePointer) { ctx = c }
        deinit { TS_RESP_CTX_free(ctx) }
    }

    private let responder: Mutex<ResponderContext>
    public let policy: String
    public let signer: X509Certificate

    /// `chainPEM`: the TSA certificate first (its issuers may follow; only the first is used). `keyPEM`: its private key.
    public init(chainPEM: String, keyPEM: String, policy: String) throws {
        let certs = try X509Certificate.parseAll(chainPEM)
        guard let leaf = certs.first else {
            throw EvidenceError.dataError(zh: "时间戳服务证书缺失", en: "no TSA certificate in the chain file")
        }
        guard OBJ_txt2obj(policy, 1).map({ ASN1_OBJECT_free($0); return true }) == true else {
            throw EvidenceError.usage(zh: "策略 OID 格式错误：\(policy)", en: "malformed policy OID: \(policy)")
        }
        let key = try EVPKey.read(pem: keyPEM)
        guard let c = TS_RESP_CTX_new() else { throw OpenSSL.failure("TS_RESP_CTX_new") }
        let rc = ResponderContext(owning: c)   // frees the context also when this initializer throws
        let ctx = rc.ctx
        guard leaf.withHandle({ TS_RESP_CTX_set_signer_cert(ctx, $0) }) == 1 else {
            let why = OpenSSL.lastError()
            throw EvidenceError.dataError(zh: "时间戳服务证书不能用于签发时间戳（须含关键扩展 timeStamping）：\(why)",
                                          en: "the TSA certificate cannot sign time stamps (it needs a critical timeStamping extended key usage): \(why)")
        }
        // The context takes its own reference to the key.
        guard key.withHandle({ TS_RESP_CTX_set_signer_key(ctx, $0) }) == 1 else {
            _ = OpenSSL.lastError()
            throw EvidenceError.dataError(zh: "时间戳服务证书与私钥不匹配", en: "the TSA certificate and key do not match")
        }
        // Only the signer's own certificate goes into tokens (on certReq): OpenSSL writes the
        // certificates field in insertion order, which strict DER readers (rfc3161-client) refuse as
        // an unsorted SET OF once it holds two. Verifiers are given the node CA as their trust root.
        let obj = OBJ_txt2obj(policy, 1)
        TS_RESP_CTX_set_def_policy(ctx, obj)
        ASN1_OBJECT_free(obj)
        for md in ["SHA256", "SHA384", "SHA512", "SM3"] { TS_RESP_CTX_add_md(ctx, EVP_get_digestbyname(md)) }
        TS_RESP_CTX_set_accuracy(ctx, 1, 0, 0)
        TS_RESP_CTX_set_clock_precision_digits(ctx, 3)
        TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256())
        TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256())
        sx_ts_set_serial_cb(ctx, { _, _ in
            var r = [UInt8](repeating: 0, count: 16)
            guard RAND_bytes(&r, 16) == 1 else { return nil }
            r[0] &= 0x7F
            r[0] |= 0x40   // 127 significant bits, never a leading zero byte
            let bn = BN_bin2bn(r, 16, nil)
            defer { BN_free(bn) }
            return BN_to_ASN1_INTEGER(bn, nil)
        }, nil)
        signer = leaf
        self.policy = policy
        responder = Mutex(rc)
    }

    /// Answer one TimeStampReq (DER) with a TimeStampResp (DER); malformed requests get a rejection.
    public func respond(_ query: [UInt8]) throws -> [UInt8] {
        try responder.withLock { rc in
            try query.withUnsafeBytes { buf -> [UInt8] in
                guard let bio = BIO_new_mem_buf(buf.baseAddress, Int32(buf.count)) else { throw OpenSSL.failure("BIO") }
                defer { BIO_free(bio) }
                guard let resp = TS_RESP_create_response(rc.ctx, bio) else { throw OpenSSL.failure("TS_RESP_create_response") }
                defer { TS_RESP_free(resp) }
                return try TimeStamp.der { i2d_TS_RESP(resp, $0) }
            }
        }
    }
}
