internal import CSXOpenSSL

/// AES-128-CBC with PKCS#7 padding (RFC 8216 §4.3.2.4 "AES-128"), for still frames only.
enum AES128 {
    static func cbcDecrypt(_ data: [UInt8], key: [UInt8], iv: [UInt8]) -> [UInt8]? {
        guard key.count == 16, iv.count == 16, let ctx = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(ctx) }
        guard EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), nil, key, iv) == 1 else { return nil }
        var out = [UInt8](repeating: 0, count: data.count + 16)
        var n: Int32 = 0, m: Int32 = 0
        guard EVP_DecryptUpdate(ctx, &out, &n, data, Int32(data.count)) == 1 else { return nil }
        let ok = out.withUnsafeMutableBufferPointer { EVP_DecryptFinal_ex(ctx, $0.baseAddress! + Int(n), &m) } == 1
        return ok ? Array(out.prefix(Int(n + m))) : nil
    }
}
