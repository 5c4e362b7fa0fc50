internal import CSXOpenSSL

enum OpenSSL {
    /// Drain OpenSSL's per-thread error queue into one line; call right after the failing call.
    static func lastError() -> String {
        var parts: [String] = []
        while true {
            var data: UnsafePointer<CChar>?
            var flags: Int32 = 0
            let e = ERR_get_error_all(nil, nil, nil, &data, &flags)
            if e == 0 { break }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(e, &buf, buf.count)
            var part = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // The detail (e.g. "Verify error:certificate has expired") is in the error's data string.
            if let data, flags & ERR_TXT_STRING != 0 { part += " (" + String(cString: data) + ")" }
            parts.append(part)
        }
        return parts.isEmpty ? "unknown OpenSSL error" : parts.joined(separator: "; ")
    }

    /// The cause of an internal error from OpenSSL: the operation and OpenSSL's error queue.
    struct Failure: Error, Sendable {
        let operation: String
        let queue: String
    }

    static func failure(_ what: String) -> EvidenceError {
        let detail = lastError()
        return EvidenceError.internalError(zh: "密码库操作失败：\(what)（\(detail)）",
                                           en: "cryptographic operation failed: \(what) (\(detail))",
                                           cause: Failure(operation: what, queue: detail))
    }

    /// The DER bytes of an OpenSSL i2d_* call: `encode(nil)` gives the length, `encode(&p)` writes.
    static func der(_ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) -> [UInt8] {
        let n = encode(nil)
        guard n > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: Int(n))
        out.withUnsafeMutableBufferPointer { b in
            var p: UnsafeMutablePointer<UInt8>? = b.baseAddress
            _ = encode(&p)
        }
        return out
    }

    static var version: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}
