import Foundation
internal import CSXOpenSSL

/// An RFC 3161 time-stamping authority over OpenSSL's TS_RESP_CTX: unique random 127-bit serial
/// numbers, one-second accuracy, the node's policy OID, SHA-256/384/512 and SM3 imprints accepted.
public final class TimeStampAuthority: @unchecked Sendable {
    private let ctx: OpaquePointer
    private let lock = NSLock()
    public let policy: String
    public let signer: X509Cert

    /// `chainPEM`: the TSA certificate first (its issuers may follow; only the first is used). `keyPEM`: its private key.
    public init(chainPEM: String, keyPEM: String, policy: String) throws {
        let certs = try X509Cert.parseAll(chainPEM)
        guard let leaf = certs.first else {
            throw EvidenceError(.dataError, zh: "时间戳服务证书缺失", en: "no TSA certificate in the chain file")
        }
        guard OBJ_txt2obj(policy, 1).map({ ASN1_OBJECT_free($0); return true }) == true else {
            throw EvidenceError(.usage, zh: "策略 OID 格式错误：\(policy)", en: "malformed policy OID: \(policy)")
        }
        let (key, _) = try PEMKeys.read(keyPEM)
        defer { EVP_PKEY_free(key) }
        guard let c = TS_RESP_CTX_new() else { throw OpenSSL.failure("TS_RESP_CTX_new") }
        ctx = c
        signer = leaf
        self.policy = policy
        // (deinit frees ctx, also when this initializer throws)
        guard TS_RESP_CTX_set_signer_cert(ctx, leaf.x509) == 1 else {
            throw EvidenceError(.dataError, zh: "时间戳服务证书不能用于签发时间戳（须含关键扩展 timeStamping）：\(OpenSSL.lastError())",
                                en: "the TSA certificate cannot sign time stamps (it needs a critical timeStamping extended key usage): \(OpenSSL.lastError())")
        }
        guard TS_RESP_CTX_set_signer_key(ctx, key) == 1 else {
            throw EvidenceError(.dataError, zh: "时间戳服务证书与私钥不匹配", en: "the TSA certificate and key do not match")
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
    }

    deinit { TS_RESP_CTX_free(ctx) }

    /// Answer one TimeStampReq (DER) with a TimeStampResp (DER); malformed requests get a rejection.
    public func respond(_ query: [UInt8]) throws -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return try query.withUnsafeBytes { buf -> [UInt8] in
            guard let bio = BIO_new_mem_buf(buf.baseAddress, Int32(buf.count)) else { throw OpenSSL.failure("BIO") }
            defer { BIO_free(bio) }
            guard let resp = TS_RESP_create_response(ctx, bio) else { throw OpenSSL.failure("TS_RESP_create_response") }
            defer { TS_RESP_free(resp) }
            return try TimeStamp.der { i2d_TS_RESP(resp, $0) }
        }
    }
}

/// Certificates for a node's own TSA: a node CA and a TSA certificate it issues (ECDSA P-256).
public enum TSACertificates {
    public struct Issued {
        public var caPEM: String
        public var caKeyPEM: String
        public var tsaPEM: String
        public var tsaKeyPEM: String
    }

    public static func issue(nodeID: String, name: String, days: Int = 3650) throws -> Issued {
        guard let caKey = sx_keygen_p256(), let tsaKey = sx_keygen_p256() else { throw OpenSSL.failure("P-256 keygen") }
        defer { EVP_PKEY_free(caKey); EVP_PKEY_free(tsaKey) }
        let ca = try make(cn: "\(name) \(nodeID) Node CA", org: name, key: caKey, issuer: nil, issuerKey: caKey, days: days,
                          extensions: [(NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign"),
                                       (NID_subject_key_identifier, "hash")])
        let tsa = try make(cn: "\(name) \(nodeID) TSA", org: name, key: tsaKey, issuer: ca, issuerKey: caKey, days: days,
                           extensions: [(NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature,nonRepudiation"),
                                        (NID_ext_key_usage, "critical,timeStamping"), (NID_subject_key_identifier, "hash"),
                                        (NID_authority_key_identifier, "keyid:always")])
        return Issued(caPEM: ca.pem, caKeyPEM: try PEMKeys.writePrivate(caKey), tsaPEM: tsa.pem, tsaKeyPEM: try PEMKeys.writePrivate(tsaKey))
    }

    /// A TSA certificate under an existing CA, for tests of what verification must refuse
    /// (an expired certificate, one without the timeStamping usage).
    public static func issueTSA(caPEM: String, caKeyPEM: String, cn: String, extendedKeyUsage: String?,
                                validFromDays: Int, validToDays: Int, keyPEM: String? = nil,
                                serialOf: String? = nil) throws -> (certPEM: String, keyPEM: String) {
        guard let ca = try X509Cert.parseAll(caPEM).first,
              let key = try keyPEM.map({ try PEMKeys.read($0).0 }) ?? sx_keygen_p256() else { throw OpenSSL.failure("TSA test certificate") }
        defer { EVP_PKEY_free(key) }
        let (caKey, _) = try PEMKeys.read(caKeyPEM)
        defer { EVP_PKEY_free(caKey) }
        var ext: [(Int32, String)] = [(NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature,nonRepudiation")]
        if let eku = extendedKeyUsage { ext.append((NID_ext_key_usage, eku)) }
        let twin = try serialOf.flatMap { try X509Cert.parseAll($0).first }
        let c = try withExtendedLifetime(twin) {
            try make(cn: cn, org: "test", key: key, issuer: ca, issuerKey: caKey, days: validToDays, extensions: ext,
                     notBeforeSeconds: validFromDays * 86400, serial: twin.map { X509_get_serialNumber($0.x509) })
        }
        return (c.pem, try PEMKeys.writePrivate(key))
    }

    static func make(cn: String, org: String, key: OpaquePointer, issuer: X509Cert?, issuerKey: OpaquePointer, days: Int,
                     extensions: [(Int32, String)], notBeforeSeconds: Int = -300,
                     serial copySerial: UnsafeMutablePointer<ASN1_INTEGER>? = nil) throws -> X509Cert {
        guard let x = X509_new() else { throw OpenSSL.failure("X509_new") }
        let cert = X509Cert(x)
        X509_set_version(x, 2)
        var serial = [UInt8](repeating: 0, count: 16)
        RAND_bytes(&serial, 16)
        serial[0] &= 0x7F
        let bn = BN_bin2bn(serial, 16, nil)
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))
        BN_free(bn)
        if let copySerial { X509_set_serialNumber(x, copySerial) }
        X509_gmtime_adj(X509_getm_notBefore(x), notBeforeSeconds)
        X509_gmtime_adj(X509_getm_notAfter(x), days * 86400)
        X509_set_pubkey(x, key)
        let name = X509_get_subject_name(x)
        X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, "CN", -1, -1, 0)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, org, -1, -1, 0)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0)
        X509_set_issuer_name(x, issuer.map { X509_get_subject_name($0.x509) } ?? name)
        var v3 = X509V3_CTX()
        sx_x509v3_ctx_nodb(&v3)
        X509V3_set_ctx(&v3, issuer?.x509 ?? x, x, nil, nil, 0)
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &v3, nid, value) else { throw OpenSSL.failure("extension \(value)") }
            X509_add_ext(x, ext, -1)
            X509_EXTENSION_free(ext)
        }
        guard X509_sign(x, issuerKey, EVP_sha256()) > 0 else { throw OpenSSL.failure("X509_sign") }
        return cert
    }
}
