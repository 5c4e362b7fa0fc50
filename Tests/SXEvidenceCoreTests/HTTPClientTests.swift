import Foundation
import Testing
@testable import SXEvidenceCore
#if canImport(Glibc)
import Glibc
#endif

/// A one-thread HTTP/1.1 server on 127.0.0.1 for these tests: each connection carries one request
/// (read whole, Content-Length bodies only) and gets `answer(method, target, body)` back, then is closed.
private final class TinyServer: Sendable {
    let port: Int
    private let fd: Int32

    init(answer: @escaping @Sendable (String, String, [UInt8]) -> [UInt8]) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && getsockname(s, $0, &len) == 0 }
        }
        try #require(bound && listen(s, 16) == 0, "cannot listen on 127.0.0.1")
        fd = s
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread.detachNewThread {
            while true {
                let c = accept(s, nil, nil)
                if c < 0 {
                    if errno == EINTR { continue }
                    close(s)   // only now, so that the number cannot be reused under a running accept
                    return
                }
                Self.serve(c, answer)
                close(c)
            }
        }
    }

    /// Stop accepting (call with `defer`, which also keeps the server alive to the end of the test):
    /// the accept loop then fails and closes the socket itself.
    func stop() { shutdown(fd, Int32(SHUT_RDWR)) }

    var base: String { "http://127.0.0.1:\(port)" }

    private static func serve(_ c: Int32, _ answer: (String, String, [UInt8]) -> [UInt8]) {
        var got: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        func more() -> Bool {
            let n = buf.withUnsafeMutableBytes { POSIXFile.readSome(c, into: $0) }
            if n > 0 { got += buf[0..<n] }
            return n > 0
        }
        let end = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            if let r = got.firstRange(of: end) { headEnd = r.upperBound; break }
            guard more() else { return }
        }
        let head = String(decoding: got[..<headEnd!], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        let length = lines.dropFirst().compactMap { l -> Int? in
            l.lowercased().hasPrefix("content-length:") ? Int(l.dropFirst(15).trimmingCharacters(in: .whitespaces)) : nil
        }.first ?? 0
        while got.count - headEnd! < length { guard more() else { return } }
        let out = answer(String(parts[0]), String(parts[1]), Array(got[headEnd!..<(headEnd! + length)]))
        _ = out.withUnsafeBytes { POSIXFile.writeAll(c, $0) }
    }

    static func response(_ body: [UInt8], type: String = "text/plain") -> [UInt8] {
        Array("HTTP/1.1 200 OK\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + body
    }
}

@Suite struct HTTPClientTests {
    /// A POST from memory comes back into memory with the facts libcurl knows.
    @Test func postFromMemoryToMemory() throws {
        let server = try TinyServer { method, target, body in
            TinyServer.response(Array("\(method) \(target) \(body.count) \(Hex.encode(Hashing.sha256(body)))".utf8), type: "text/x.echo")
        }
        defer { server.stop() }
        let body = Array("hello, 世界".utf8)
        var r = HTTPRequest(.post, server.base + "/echo", headers: ["Content-Type: text/plain"], body: .bytes(body))
        r.record = true
        let a = try HTTPClient().send(r, limit: 4096)
        #expect(a.error == nil && a.failure == nil && a.curlCode == 0)
        #expect(a.status == 200)
        #expect(a.text == "POST /echo \(body.count) \(Hex.encode(Hashing.sha256(body)))")
        #expect(a.contentType == "text/x.echo")
        #expect(a.httpVersion == "HTTP/1.1")
        #expect(a.primaryIP == "127.0.0.1" && a.primaryPort == server.port)
        #expect(String(decoding: a.head, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(String(decoding: a.requestHead, as: UTF8.self).hasPrefix("POST /echo HTTP/1.1\r\n"))
        #expect(a.tls == nil)
        #expect(Set(a.timings.keys) == ["dns", "connect", "tls", "first_byte", "total"])
    }

    /// An answer over the memory cap stops the transfer and is a data error, not a truncated body.
    @Test func memoryCapIsAnError() throws {
        let server = try TinyServer { _, _, _ in TinyServer.response([UInt8](repeating: 0x41, count: 100_000)) }
        defer { server.stop() }
        let error = #expect(throws: EvidenceError.self) {
            _ = try HTTPClient().send(HTTPRequest(.get, server.base + "/big"), limit: 1000)
        }
        #expect(error?.code == .dataError)
        #expect(error?.en.contains("exceeds 1000 bytes") == true)
    }

    /// PUT streams a file as the body; a FileSink streams the answer to a file; HEAD has no body.
    @Test func streamingBothWays() throws {
        let dir = tempDir("http")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var blob = [UInt8](repeating: 0, count: 3_000_017)
        for i in blob.indices { blob[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 11) }
        try POSIXFile.writeAtomically(dir + "/up", blob, mode: 0o600)
        let server = try TinyServer { method, _, body in
            method == "HEAD" ? Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n".utf8)
                : TinyServer.response(body, type: "application/octet-stream")
        }
        defer { server.stop() }
        let client = try HTTPClient()
        let fd = open(dir + "/down", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        let sink = FileSink(fd: fd, path: dir + "/down", limit: 1 << 30, source: server.base)
        let put = try client.send(HTTPRequest(.put, server.base + "/o", headers: ["Expect:"], body: .file(path: dir + "/up")), to: sink)
        close(fd)
        #expect(put.status == 200 && put.error == nil && put.body.isEmpty)
        #expect(sink.written == Int64(blob.count))
        #expect(try POSIXFile.readAll(dir + "/down") == blob)
        let head = try client.send(HTTPRequest(.head, server.base + "/o"), limit: 10)
        #expect(head.status == 200 && head.body.isEmpty && head.error == nil)
        // A file sink has a cap too.
        let fd2 = open(dir + "/down2", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(fd2) }
        let small = FileSink(fd: fd2, path: dir + "/down2", limit: 1000, source: server.base)
        let error = #expect(throws: EvidenceError.self) {
            _ = try client.send(HTTPRequest(.post, server.base + "/o", body: .bytes(Array(blob.prefix(5000)))), to: small)
        }
        #expect(error?.code == .dataError)
    }

    /// Many requests at once on one multi handle come back in request order.
    @Test func sendAllKeepsOrder() throws {
        let server = try TinyServer { _, target, _ in TinyServer.response(Array(target.utf8)) }
        defer { server.stop() }
        let requests = (0..<24).map { HTTPRequest(.get, server.base + "/\($0)") }
        let results = try HTTPClient.sendAll(requests, limit: 100, concurrency: 4)
        #expect(results.count == 24)
        for (i, r) in results.enumerated() {
            let a = try r.get()
            #expect(a.status == 200 && a.text == "/\(i)")
        }
    }

    /// A peer that cannot be reached is a recorded failure with libcurl's message, not a throw.
    @Test func unreachableIsRecorded() throws {
        var r = HTTPRequest(.get, "http://127.0.0.1:1/")
        r.connectTimeoutMs = 2000
        let a = try HTTPClient().send(r, limit: 10)
        #expect(a.failure == .other)
        #expect(a.curlCode == 7)
        #expect(a.error?.contains("127.0.0.1") == true)
        #expect(a.status == 0 && a.head.isEmpty)
    }

    /// https with an unreadable CA file: a recorded failure, with the TLS facts of an https URL.
    @Test func httpsFailureCarriesTLSInfo() throws {
        let server = try TinyServer { _, _, _ in TinyServer.response([]) }
        defer { server.stop() }
        var r = HTTPRequest(.get, "https://127.0.0.1:\(server.port)/", tls: TLSOptions(caFile: "/nonexistent-ca.pem"))
        r.connectTimeoutMs = 2000
        r.totalTimeoutMs = 5000
        let a = try HTTPClient().send(r, limit: 10)
        #expect(a.failure != nil && a.error != nil)
        #expect(a.tls != nil)
    }

    @Test func tlsDefaultsVerify() {
        let t = TLSOptions()
        #expect(t.verifyPeer && t.verifyHost && t.verifies)
        #expect(t.caFile == nil && t.clientCertFile == nil && t.clientKeyFile == nil)
        #expect(!TLSOptions(verifyPeer: false).verifies)
    }

    /// The one write loop and the read helpers over a pipe (short reads) and a file.
    @Test func posixLoops() throws {
        var p: [Int32] = [0, 0]
        try #require(pipe(&p) == 0)
        let bytes = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let w = p[1]
        Thread.detachNewThread {
            _ = bytes.withUnsafeBytes { POSIXFile.writeAll(w, $0) }
            close(w)
        }
        let first = try POSIXFile.readUpTo(p[0], 40_000, name: "pipe")
        let rest = try POSIXFile.readUpTo(p[0], 40_000, name: "pipe")
        close(p[0])
        #expect(first == Array(bytes.prefix(40_000)))
        #expect(rest == Array(bytes.dropFirst(40_000)))
        let dir = tempDir("posix")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fd = open(dir + "/f", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try POSIXFile.writeAll(fd: fd, bytes, path: dir + "/f")
        close(fd)
        #expect(try POSIXFile.readAll(dir + "/f") == bytes)
        #expect(try POSIXFile.readPrefix(dir + "/f", 64) == Array(bytes.prefix(64)))
        let error = #expect(throws: EvidenceError.self) { _ = try POSIXFile.readPrefix(dir + "/missing", 64) }
        #expect(error?.code == .notFound)
    }
}
