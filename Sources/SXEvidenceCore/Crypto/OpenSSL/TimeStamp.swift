internal import CSXOpenSSL

/// RFC 3161 time-stamp requests, responses and their verification, over OpenSSL's TS API.
public enum TimeStamp {
    public struct Request: Sendable {
        public var der: [UInt8]
        public var nonce: [UInt8]
        public var digest: [UInt8]
        public var algorithm: DigestAlgorithm
    }

    /// What a granted token says.
    public struct Info: Sendable {
        public var genTime: String        // RFC 3339 UTC
        public var serial: String         // hex
        public var policy: String         // dotted OID
        public var algorithm: String      // imprint algorithm
        public var imprint: String        // hex
        public var nonce: String?         // hex
        public var tsaName: String?
        public var accuracy: String?
        public var signer: String?        // subject of the signing certificate
    }

    static func nid(_ a: DigestAlgorithm) -> Int32 { a == .sha256 ? NID_sha256 : NID_sm3 }

    /// A TimeStampReq (RFC 3161 §2.4.1) with a 64-bit random nonce and certReq set.
    public static func makeRequest(digest: [UInt8], algorithm: DigestAlgorithm = .sha256) throws -> Request {
        guard let req = TS_REQ_new(), let mi = TS_MSG_IMPRINT_new(), let algo = X509_ALGOR_new() else { throw OpenSSL.failure("TS_REQ_new") }
        defer { TS_REQ_free(req); TS_MSG_IMPRINT_free(mi); X509_ALGOR_free(algo) }
        X509_ALGOR_set0(algo, OBJ_nid2obj(nid(algorithm)), V_ASN1_NULL, nil)
        var d = digest
        guard TS_MSG_IMPRINT_set_algo(mi, algo) == 1, TS_MSG_IMPRINT_set_msg(mi, &d, Int32(d.count)) == 1,
              TS_REQ_set_version(req, 1) == 1, TS_REQ_set_msg_imprint(req, mi) == 1, TS_REQ_set_cert_req(req, 1) == 1
        else { throw OpenSSL.failure("TS request") }
        var nonce = [UInt8](repeating: 0, count: 8)
        guard RAND_bytes(&nonce, 8) == 1 else { throw OpenSSL.failure("RAND_bytes") }
        nonce[0] &= 0x7F   // a positive INTEGER, as the DER we compare against
        if nonce[0] == 0 { nonce[0] = 1 }
        let bn = BN_bin2bn(nonce, 8, nil)
        let n = BN_to_ASN1_INTEGER(bn, nil)
        BN_free(bn)
        defer { ASN1_INTEGER_free(n) }
        guard TS_REQ_set_nonce(req, n) == 1 else { throw OpenSSL.failure("TS nonce") }
        return Request(der: try der { i2d_TS_REQ(req, $0) }, nonce: nonce, digest: digest, algorithm: algorithm)
    }

    static func der(_ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>) -> Int32) throws -> [UInt8] {
        var p: UnsafeMutablePointer<UInt8>?
        let n = encode(&p)
        guard n > 0, let p else { throw OpenSSL.failure("DER encoding") }
        defer { sx_openssl_free(p) }
        return Array(UnsafeBufferPointer(start: p, count: Int(n)))
    }

    /// An owned TS_RESP: the caller frees it (callers are in this file only).
    private static func parseResponse(_ der: [UInt8]) throws -> OpaquePointer {
        let resp: OpaquePointer? = der.withUnsafeBufferPointer { b in
            var p: UnsafePointer<UInt8>? = b.baseAddress
            return d2i_TS_RESP(nil, &p, b.count)
        }
        guard let resp else {
            _ = OpenSSL.lastError()
            throw EvidenceError.verification(zh: "时间戳响应无法解析（不是 RFC 3161 TimeStampResp）",
                                en: "time-stamp response is not a valid RFC 3161 TimeStampResp")
        }
        return resp
    }

    /// Verify a TimeStampResp: status granted, signature, certificate chain to `trustedPEM` (with the
    /// timeStamping extended key usage, critical), imprint, and the nonce of `request` when given.
    public static func verify(response: [UInt8], digest: [UInt8], algorithm: DigestAlgorithm, request: Request?,
                              trustedPEM: String) throws -> Info {
        let resp = try parseResponse(response)
        defer { TS_RESP_free(resp) }
        let status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp)))
        guard status == 0 || status == 1, TS_RESP_get_token(resp) != nil else {
            throw EvidenceError.verification(zh: "时间戳服务拒绝了请求（状态 \(status)）", en: "the TSA did not grant the request (status \(status))")
        }
        let ctx: OpaquePointer
        if let request {
            // From the request: imprint, nonce and version checks (TS_REQ_to_TS_VERIFY_CTX).
            let req: OpaquePointer? = request.der.withUnsafeBufferPointer { b in
                var p: UnsafePointer<UInt8>? = b.baseAddress
                return d2i_TS_REQ(nil, &p, b.count)
            }
            guard let req else { throw OpenSSL.failure("d2i_TS_REQ") }
            defer { TS_REQ_free(req) }
            guard let c = TS_REQ_to_TS_VERIFY_CTX(req, nil) else { throw OpenSSL.failure("TS_REQ_to_TS_VERIFY_CTX") }
            ctx = c
            TS_VERIFY_CTX_add_flags(ctx, Int32(TS_VFY_SIGNATURE))
        } else {
            guard let c = TS_VERIFY_CTX_new() else { throw OpenSSL.failure("TS_VERIFY_CTX_new") }
            ctx = c
            TS_VERIFY_CTX_set_flags(ctx, Int32(TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT))
            TS_VERIFY_CTX_set_imprint(ctx, sx_openssl_memdup(digest, digest.count), digest.count)
        }
        defer { TS_VERIFY_CTX_free(ctx) }
        if let request, request.digest != digest {
            throw EvidenceError.verification(zh: "时间戳请求的摘要与所覆盖的数据不符", en: "the time-stamp request's digest does not match the data")
        }
        guard let store = try trustStore(trustedPEM) else {
            throw EvidenceError.dataError(zh: "没有可信的时间戳根证书", en: "no trusted TSA certificate given")
        }
        TS_VERIFY_CTX_set_store(ctx, store)   // takes ownership
        if TS_RESP_verify_response(ctx, resp) != 1 {
            let why = OpenSSL.lastError()
            throw EvidenceError.verification(zh: "时间戳令牌校验失败：\(why)", en: "time-stamp token does not verify: \(why)")
        }
        let i = try info(resp)
        guard i.algorithm == (algorithm == .sha256 ? "sha256" : "sm3") else {
            throw EvidenceError.verification(zh: "时间戳摘要算法不符：\(i.algorithm)", en: "time-stamp imprint algorithm is \(i.algorithm), expected \(algorithm.rawValue)")
        }
        return i
    }

    /// A copy of a response whose token carries `certPEM` in place of its signer's certificate.
    /// The signature still verifies when the key is the same: tests use it to show that verification
    /// refuses a signer certificate without the timeStamping usage (no TSA would issue such a token).
    public static func replacingSignerCertificate(in response: [UInt8], with certPEM: String) throws -> [UInt8] {
        let resp = try parseResponse(response)
        defer { TS_RESP_free(resp) }
        guard let cert = try X509Certificate.parseAll(certPEM).first, let p7 = TS_RESP_get_token(resp),
              let signed = p7.pointee.d.sign, let certs = signed.pointee.cert, sx_sk_x509_num(certs) > 0 else {
            throw EvidenceError.dataError(zh: "无法替换证书", en: "cannot replace the certificate")
        }
        cert.withHandle { x in
            X509_up_ref(x)   // the stack's own reference
            X509_free(sx_sk_x509_set(certs, 0, x))
        }
        return try der { i2d_TS_RESP(resp, $0) }
    }

    public static func info(response: [UInt8]) throws -> Info {
        let resp = try parseResponse(response)
        defer { TS_RESP_free(resp) }
        return try info(resp)
    }

    private static func info(_ resp: OpaquePointer) throws -> Info {
        guard let tst = TS_RESP_get_tst_info(resp) else {
            throw EvidenceError.verification(zh: "时间戳响应中没有令牌", en: "time-stamp response carries no token")
        }
        let time = TS_TST_INFO_get_time(tst).map(asn1String) ?? ""
        let serialBN = ASN1_INTEGER_to_BN(TS_TST_INFO_get_serial(tst), nil)
        let hex = BN_bn2hex(serialBN)
        let serial = hex.map { String(cString: $0).lowercased() } ?? ""
        if let hex { sx_openssl_free(hex) }
        BN_free(serialBN)
        var oid = [CChar](repeating: 0, count: 128)
        OBJ_obj2txt(&oid, 128, TS_TST_INFO_get_policy_id(tst), 1)
        let mi = TS_TST_INFO_get_msg_imprint(tst)
        var algoObj: OpaquePointer?
        X509_ALGOR_get0(&algoObj, nil, nil, TS_MSG_IMPRINT_get_algo(mi))
        let algoName = String(cString: OBJ_nid2sn(OBJ_obj2nid(algoObj))).lowercased()
        let msg = TS_MSG_IMPRINT_get_msg(mi)
        let imprint = msg.map { Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data($0), count: Int(ASN1_STRING_length($0)))) } ?? []
        var nonce: String?
        if let n = TS_TST_INFO_get_nonce(tst) {
            let bn = ASN1_INTEGER_to_BN(n, nil)
            if let h = BN_bn2hex(bn) { nonce = String(cString: h).lowercased(); sx_openssl_free(h) }
            BN_free(bn)
        }
        var accuracy: String?
        if let acc = TS_TST_INFO_get_accuracy(tst) {
            let s = TS_ACCURACY_get_seconds(acc).map { ASN1_INTEGER_get($0) } ?? 0
            let ms = TS_ACCURACY_get_millis(acc).map { ASN1_INTEGER_get($0) } ?? 0
            accuracy = "\(s)s \(ms)ms"
        }
        var subject = [CChar](repeating: 0, count: 512)
        let signer = sx_ts_signer_subject(resp, &subject, 512) == 1
            ? String(decoding: subject.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
        return Info(genTime: rfc3339(fromGeneralized: time), serial: serial, policy: String(cString: oid), algorithm: algoName,
                    imprint: Hex.encode(imprint), nonce: nonce, tsaName: nil, accuracy: accuracy, signer: signer)
    }

    static func asn1String(_ s: UnsafePointer<ASN1_GENERALIZEDTIME>) -> String {
        String(decoding: UnsafeBufferPointer(start: ASN1_STRING_get0_data(s), count: Int(ASN1_STRING_length(s))), as: UTF8.self)
    }

    /// "20261129023000.123Z" → "2026-11-29T02:30:00.123Z"
    static func rfc3339(fromGeneralized g: String) -> String {
        let c = Array(g)
        guard c.count >= 15 else { return g }
        var s = "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))T\(String(c[8..<10])):\(String(c[10..<12])):\(String(c[12..<14]))"
        var rest = String(c[14...])
        if rest.hasPrefix(".") {
            let frac = rest.dropFirst().prefix { $0.isNumber }
            s += "." + frac
            rest = String(rest.dropFirst(1 + frac.count))
        }
        return s + (rest.isEmpty ? "Z" : rest)
    }

    /// An owned X509_STORE holding every certificate in the PEM text (it takes its own references);
    /// the caller hands it to a TS_VERIFY_CTX, which frees it.
    private static func trustStore(_ pem: String) throws -> OpaquePointer? {
        let certs = try X509Certificate.parseAll(pem)
        guard !certs.isEmpty, let store = X509_STORE_new() else { return nil }
        for c in certs { c.withHandle { _ = X509_STORE_add_cert(store, $0) } }
        return store
    }
}
