internal import CSXOpenSSL

/// Certificates for a node's own TSA: a node CA and a TSA certificate it issues (ECDSA P-256).
public enum TSACertificates {
    public struct Issued {
        public var caPEM: String
        public var caKeyPEM: String
        public var tsaPEM: String
        public var tsaKeyPEM: String
    }

    public static func issue(nodeID: String, name: String, days: Int = 3650) throws -> Issued {
        let caKey = try EVPKey.generate(.p256), tsaKey = try EVPKey.generate(.p256)
        let ca = try make(cn: "\(name) \(nodeID) Node CA", org: name, key: caKey, issuer: nil, issuerKey: caKey, days: days,
                          extensions: [(NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign"),
                                       (NID_subject_key_identifier, "hash")])
        let tsa = try make(cn: "\(name) \(nodeID) TSA", org: name, key: tsaKey, issuer: ca, issuerKey: caKey, days: days,
                           extensions: [(NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature,nonRepudiation"),
                                        (NID_ext_key_usage, "critical,timeStamping"), (NID_subject_key_identifier, "hash"),
                                        (NID_authority_key_identifier, "keyid:always")])
        return Issued(caPEM: ca.pem, caKeyPEM: try caKey.privatePEM(), tsaPEM: tsa.pem, tsaKeyPEM: try tsaKey.privatePEM())
    }

    /// A TSA certificate under an existing CA, for tests of what verification must refuse
    /// (an expired certificate, one without the timeStamping usage).
    public static func issueTSA(caPEM: String, caKeyPEM: String, cn: String, extendedKeyUsage: String?,
                                validFromDays: Int, validToDays: Int, keyPEM: String? = nil,
                                serialOf: String? = nil) throws -> (certPEM: String, keyPEM: String) {
        guard let ca = try X509Certificate.parseAll(caPEM).first else { throw OpenSSL.failure("TSA test certificate") }
        let key = try keyPEM.map { try EVPKey.read(pem: $0) } ?? EVPKey.generate(.p256)
        let caKey = try EVPKey.read(pem: caKeyPEM)
        var ext: [(Int32, String)] = [(NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature,nonRepudiation")]
        if let eku = extendedKeyUsage { ext.append((NID_ext_key_usage, eku)) }
        let twin = try serialOf.flatMap { try X509Certificate.parseAll($0).first }
        let c = try make(cn: cn, org: "test", key: key, issuer: ca, issuerKey: caKey, days: validToDays, extensions: ext,
                         notBeforeSeconds: validFromDays * 86400, serialOf: twin)
        return (c.pem, try key.privatePEM())
    }

    static func make(cn: String, org: String, key: EVPKey, issuer: X509Certificate?, issuerKey: EVPKey, days: Int,
                             extensions: [(Int32, String)], notBeforeSeconds: Int = -300,
                             serialOf twin: X509Certificate? = nil) throws -> X509Certificate {
        guard let x = X509_new() else { throw OpenSSL.failure("X509_new") }
        let cert = X509Certificate(owning: x)   // built here, handed out only once signed
        X509_set_version(x, 2)
        var serial = [UInt8](repeating: 0, count: 16)
        RAND_bytes(&serial, 16)
        serial[0] &= 0x7F
        let bn = BN_bin2bn(serial, 16, nil)
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))
        BN_free(bn)
        twin?.withHandle { _ = X509_set_serialNumber(x, X509_get_serialNumber($0)) }   // copies it
        X509_gmtime_adj(X509_getm_notBefore(x), notBeforeSeconds)
        X509_gmtime_adj(X509_getm_notAfter(x), days * 86400)
        key.withHandle { _ = X509_set_pubkey(x, $0) }
        let name = X509_get_subject_name(x)
        X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, "CN", -1, -1, 0)
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, org, -1, -1, 0)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1, 0)
        var v3 = X509V3_CTX()
        sx_x509v3_ctx_nodb(&v3)
        func addExtensions(issuedBy issuerX: OpaquePointer) throws {
            X509_set_issuer_name(x, X509_get_subject_name(issuerX))
            X509V3_set_ctx(&v3, issuerX, x, nil, nil, 0)
            for (nid, value) in extensions {
                guard let ext = X509V3_EXT_conf_nid(nil, &v3, nid, value) else { throw OpenSSL.failure("extension \(value)") }
                X509_add_ext(x, ext, -1)
                X509_EXTENSION_free(ext)
            }
        }
        if let issuer { try issuer.withHandle { try addExtensions(issuedBy: $0) } } else { try addExtensions(issuedBy: x) }
        guard issuerKey.withHandle({ X509_sign(x, $0, EVP_sha256()) }) > 0 else { throw OpenSSL.failure("X509_sign") }
        return cert
    }
}
