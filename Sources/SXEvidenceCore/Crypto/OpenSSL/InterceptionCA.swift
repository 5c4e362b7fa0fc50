import Foundation
internal import CSXOpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// The certificate authority of one browser capture (sxevidence-capture(5), Interception CA):
/// made in memory, never written to disk, discarded when the capture ends. One EC P-256 leaf key
/// is shared by every leaf, so the browser can trust exactly that key
/// (`--ignore-certificate-errors-spki-list`) and nothing else beyond the system's roots. Used
/// from every proxy connection thread: the leaf and TLS-context caches are behind a lock.
public final class InterceptionCA: @unchecked Sendable {
    private let lock = NSLock()
    private var caKey: EVPKey?
    private let ca: X509Certificate
    private let leafKey: EVPKey
    private var leaves: [String: X509Certificate] = [:]
    /// One server context per host (its leaf, the CA as chain, the shared key, ALPN http/1.1).
    private var contexts: [String: OpaquePointer] = [:]

    public let caCertificatePEM: String
    public let caCertificateDER: [UInt8]
    /// SHA-256 of the CA certificate's DER, hex.
    public let caFingerprintSHA256: String
    /// Base64 of SHA-256 over the leaf key's DER SubjectPublicKeyInfo.
    public let leafSPKISHA256Base64: String

    public init() throws {
        signal(SIGPIPE, SIG_IGN)   // a TLS write to a browser that has gone must not end the process
        let key = try EVPKey.generate(.p256)
        let id = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        ca = try TSACertificates.make(cn: "sxevidence capture CA \(id)", org: "sxevidence", key: key, issuer: nil, issuerKey: key,
                                      days: 2, extensions: [(NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
                                                            (NID_key_usage, "critical,keyCertSign,cRLSign"),
                                                            (NID_subject_key_identifier, "hash")], notBeforeSeconds: -3600)
        caKey = key
        leafKey = try EVPKey.generate(.p256)
        caCertificatePEM = ca.pem
        caCertificateDER = ca.der
        caFingerprintSHA256 = Hex.encode(Hashing.sha256(caCertificateDER))
        let spki = leafKey.withHandle { k in OpenSSL.der { i2d_PUBKEY(k, $0) } }
        guard !spki.isEmpty else { throw OpenSSL.failure("i2d_PUBKEY") }
        leafSPKISHA256Base64 = Base64.encode(Hashing.sha256(spki))
    }

    deinit {
        for c in contexts.values { SSL_CTX_free(c) }
    }

    /// A host name or IP literal from a CONNECT line, checked before it goes into a certificate.
    static func checkedHost(_ host: String) throws -> (name: String, isIP: Bool) {
        var h = host
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:".utf8)
        guard !h.isEmpty, h.utf8.count <= 253, h.utf8.allSatisfy({ allowed.contains($0) }) else {
            throw EvidenceError.dataError(zh: "无法为该主机名签发证书：\(Display.escape(host))", en: "no certificate can be made for the host \(Display.escape(host))")
        }
        var v4 = in_addr(), v6 = in6_addr()
        let isIP = inet_pton(AF_INET, h, &v4) == 1 || inet_pton(AF_INET6, h, &v6) == 1
        guard isIP || !h.contains(":") else {
            throw EvidenceError.dataError(zh: "无法为该主机名签发证书：\(Display.escape(host))", en: "no certificate can be made for the host \(Display.escape(host))")
        }
        return (h, isIP)
    }

    private func leaf(_ host: String) throws -> X509Certificate {
        let (name, isIP) = try Self.checkedHost(host)
        if let c = leaves[name] { return c }
        guard let caKey else {
            throw EvidenceError.internalError(zh: "取证 CA 已销毁，不能再签发证书", en: "the capture CA has been discarded; no new certificate can be made")
        }
        let c = try TSACertificates.make(cn: String(name.prefix(64)), org: "sxevidence capture", key: leafKey, issuer: ca, issuerKey: caKey,
                                         days: 2, extensions: [(NID_basic_constraints, "critical,CA:FALSE"),
                                                               (NID_key_usage, "critical,digitalSignature"),
                                                               (NID_ext_key_usage, "serverAuth"),
                                                               (NID_subject_alt_name, (isIP ? "IP:" : "DNS:") + name),
                                                               (NID_authority_key_identifier, "keyid:always")], notBeforeSeconds: -3600)
        leaves[name] = c
        return c
    }

    /// The leaf certificate for `host` (made once per host).
    public func leafCertificate(host: String) throws -> (pem: String, der: [UInt8]) {
        let c = try lock.withLock { try leaf(host) }
        return (c.pem, c.der)
    }

    /// The TLS server context for `host` (borrowed: owned by the CA, freed with it).
    func context(host: String) throws -> OpaquePointer {
        try lock.withLock {
            let name = try Self.checkedHost(host).name
            if let c = contexts[name] { return c }
            let cert = try leaf(host)
            guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw OpenSSL.failure("SSL_CTX_new") }
            guard sx_ssl_ctx_min_tls12(ctx) == 1,
                  cert.withHandle({ SSL_CTX_use_certificate(ctx, $0) }) == 1,
                  leafKey.withHandle({ SSL_CTX_use_PrivateKey(ctx, $0) }) == 1,
                  ca.withHandle({ sx_ssl_ctx_add1_chain_cert(ctx, $0) }) == 1,
                  SSL_CTX_check_private_key(ctx) == 1 else {
                SSL_CTX_free(ctx)
                throw OpenSSL.failure("TLS server context")
            }
            sx_ssl_ctx_alpn_http11(ctx)
            contexts[name] = ctx
            return ctx
        }
    }

    /// Forget the CA key: leaves already made still serve, no new one can be made.
    public func discard() {
        lock.withLock { caKey = nil }
    }
}
