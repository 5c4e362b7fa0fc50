/// PEM certificate blocks and their fingerprints (SHA-256 of the DER), as the consortium policy's
/// `tsa_roots` names them (sxevidence-consortium(5), POLICY).
public enum PEMCertificates {
    public struct Block: Sendable {
        public var pem: String          // the block, BEGIN to END line, with a final newline
        public var der: [UInt8]
        public var fingerprint: String  // lowercase hex SHA-256 of the DER
    }

    /// Every `CERTIFICATE` block in the text; blocks whose base64 does not decode are skipped
    /// (OpenSSL refuses them later anyway).
    public static func blocks(_ text: String) -> [Block] {
        var out: [Block] = []
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
                out.append(Block(pem: pem, der: der, fingerprint: Hex.encode(Hashing.sha256(der))))
                continue
            }
            if inside { body += line.filter { !$0.isWhitespace } }
        }
        return out
    }
}
