internal import CSXOpenSSL

enum OpenSSL {
    /// Drain OpenSSL's per-thread error queue into one line; call right after the failing call.
    static func lastError() -> String {
        var parts: [String] = []
        while true {
            let e = ERR_get_error()
            if e == 0 { break }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(e, &buf, buf.count)
            parts.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return parts.isEmpty ? "unknown OpenSSL error" : parts.joined(separator: "; ")
    }

    static func failure(_ what: String) -> EvidenceError {
        let detail = lastError()
        return EvidenceError(.internalError, zh: "密码库操作失败：\(what)（\(detail)）",
                             en: "cryptographic operation failed: \(what) (\(detail))")
    }

    static var version: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}
