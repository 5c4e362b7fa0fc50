internal import CSXOpenSSL

/// An X.509 certificate held by OpenSSL (`X509`, owned and freed in deinit), and the PEM
/// certificate blocks and fingerprints (SHA-256 of the DER) the consortium policy's `tsa_roots` name
/// (sxevidence-consortium(5), POLICY). Other files of this folder borrow the pointer in `withHandle`.
///
/// `@unchecked Sendable`: a certificate is never changed once it is handed out (TSACertificates
/// builds and signs it before), and OpenSSL allows concurrent reads of one `X509`.
public final class X509Certificate: @unchecked Sendable {
    private let x509: OpaquePointer

    /// Takes ownership of `x`.
    init(owning x: OpaquePointer) { x509 = x }
    deinit { X509_free(x509) }

    /// Borrow the pointer for OpenSSL calls; it must not escape `body` (take a reference with
    /// `X509_up_ref` to keep it).
    func withHandle<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(x509) }
    }

    /// Every certificate in the PEM text, in order.
    public static func parseAll(_ pem: String) throws -> [X509Certificate] {
        let bytes = Array(pem.utf8)
        return bytes.withUnsafeBytes { buf -> [X509Certificate] in
            guard let bio = BIO_new_mem_buf(buf.baseAddress, Int32(buf.count)) else { return [] }
            defer { BIO_free(bio) }
            var out: [X509Certificate] = []
            while let x = PEM_read_bio_X509(bio, nil, nil, nil) { out.append(X509Certificate(owning: x)) }
            _ = OpenSSL.lastError()   // the loop ends on a "no start line" error
            return out
        }
    }

    public var pem: String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        PEM_write_bio_X509(bio, x509)
        var p: UnsafeMutablePointer<CChar>?
        let n = sx_bio_get_mem_data(bio, &p)
        return p.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: n), as: UTF8.self) } ?? ""
    }

    /// The certificate's DER encoding.
    public var der: [UInt8] { OpenSSL.der { i2d_X509(x509, $0) } }

    public var subject: String { Self.oneline(X509_get_subject_name(x509)) }
    public var issuer: String { Self.oneline(X509_get_issuer_name(x509)) }

    private static func oneline(_ name: OpaquePointer?) -> String {
        var buf = [CChar](repeating: 0, count: 512)
        X509_NAME_oneline(name, &buf, 512)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: PEM blocks (no OpenSSL: the text as the policy's fingerprints name it)

    public struct PEMBlock: Sendable {
        public var pem: String          // the block, BEGIN to END line, with a final newline
        public var der: [UInt8]
        public var fingerprint: String  // lowercase hex SHA-256 of the DER
    }

    /// Every `CERTIFICATE` block in the text; blocks whose base64 does not decode are skipped
    /// (OpenSSL refuses them later anyway).
    public static func pemBlocks(_ text: String) -> [PEMBlock] {
        var out: [PEMBlock] = []
        var inside = false
        var body = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line == "-----BEGIN CERTIFICATE-----" { inside = true; body = ""; continue }
            if line == "-----END CERTIFICATE-----", inside {
                inside = false
                guard let der = Base64.decode(body), !der.isEmpty else { continue }
                var pem = "-----BEGIN CERTIFICATE-----\n"
                var i = body.startIndex
                while i < body.endIndex {
                    let j = body.index(i, offsetBy: 64, limitedBy: body.endIndex) ?? body.endIndex
                    pem += body[i..<j] + "\n"
                    i = j
                }
                pem += "-----END CERTIFICATE-----\n"
                out.append(PEMBlock(pem: pem, der: der, fingerprint: Hex.encode(Hashing.sha256(der))))
                continue
            }
            if inside { body += line.filter { !$0.isWhitespace } }
        }
        return out
    }
}
