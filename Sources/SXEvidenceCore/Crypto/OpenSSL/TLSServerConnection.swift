import Foundation
internal import CSXOpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// The server side of TLS on an accepted, blocking socket: the recording proxy terminates the
/// browser's TLS inside a CONNECT tunnel with a leaf of the capture's `InterceptionCA`. The socket
/// stays the caller's: it is attached without close-on-free (SSL_set_fd), and the caller closes it.
/// Timeouts are the socket's own (SO_RCVTIMEO set by the caller).
public final class TLSServerConnection {
    private let ssl: OpaquePointer

    public init(fd: Int32, ca: InterceptionCA, host: String) throws {
        let ctx = try ca.context(host: host)
        guard let s = SSL_new(ctx) else { throw OpenSSL.failure("SSL_new") }
        guard SSL_set_fd(s, fd) == 1 else {
            SSL_free(s)
            throw OpenSSL.failure("SSL_set_fd")
        }
        while true {
            let rc = SSL_accept(s)
            if rc == 1 { break }
            let e = SSL_get_error(s, rc)
            if e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE { continue }
            let detail = OpenSSL.lastError()
            SSL_free(s)
            let why = detail.isEmpty ? (e == SSL_ERROR_SYSCALL ? "connection closed or timed out" : "SSL error \(e)") : detail
            throw EvidenceError.unavailable(zh: "与浏览器的 TLS 握手失败：\(why)", en: "the TLS handshake with the browser failed: \(why)")
        }
        ssl = s
    }

    deinit { SSL_free(ssl) }

    /// Bytes read; 0 when the browser closed; -1 on an error or the socket's timeout.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let n = SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
            if n > 0 { return Int(n) }
            let e = SSL_get_error(ssl, n)
            if e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE { continue }
            _ = OpenSSL.lastError()
            return e == SSL_ERROR_ZERO_RETURN ? 0 : -1
        }
    }

    public func writeAll(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = SSL_write(ssl, bytes.baseAddress! + off, Int32(min(bytes.count - off, 1 << 30)))
            if n > 0 { off += Int(n); continue }
            let e = SSL_get_error(ssl, n)
            if e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE { continue }
            _ = OpenSSL.lastError()
            return false
        }
        return true
    }

    /// Send close_notify (the socket itself stays open for the caller to close).
    public func shutdown() { _ = SSL_shutdown(ssl) }

    public var version: String { String(cString: SSL_get_version(ssl)) }
    public var cipher: String { SSL_get_current_cipher(ssl).map { String(cString: SSL_CIPHER_get_name($0)) } ?? "" }
    public var alpn: String? {
        var p: UnsafePointer<UInt8>?
        var n: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &p, &n)
        guard let p, n > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(n)), as: UTF8.self)
    }
}
