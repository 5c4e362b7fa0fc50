import Foundation
import Testing

/// Tests/tools/make_pki.sh: a root and a server or TSA certificate, made with the openssl command.
let makePKI = repoRoot.appendingPathComponent("Tests/tools/make_pki.sh").path

/// The fixture shop (fixtures/shop_server.py) on 127.0.0.1, HTTP and HTTPS with a CA the test makes.
final class ShopServer {
    let process = Process()
    let stdin = Pipe()
    private(set) var httpPort = 0
    private(set) var httpsPort = 0
    private(set) var blackholePort = 0
    let dir: String
    private var launched = false
    var caFile: String { dir + "/ca.pem" }
    var serverCert: String { dir + "/srv.pem" }

    init() throws {
        dir = NSTemporaryDirectory() + "sxe-shop-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let g = try runProcess(["sh", makePKI, dir, "server", "/CN=Fixture Shop Test CA", "/CN=127.0.0.1"])
        guard g.status == 0 else {
            removeTree(dir)
            throw EvidenceTestError("fixture shop: certificate generation with openssl failed: \(String(decoding: g.err, as: UTF8.self))")
        }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repoRoot.appendingPathComponent("fixtures/shop_server.py").path,
                             "--cert", dir + "/chain.pem", "--key", dir + "/srv.key"]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        try process.run()
        launched = true
        let text = readFirstLine(out)
        let ports = text.split(separator: " ").compactMap { $0.split(separator: "=").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        guard ports.count == 3 && text.hasPrefix("READY") else {
            stop()
            throw EvidenceTestError("fixture shop server (fixtures/shop_server.py) did not start: \(text)")
        }
        httpPort = ports[0]
        httpsPort = ports[1]
        blackholePort = ports[2]
    }

    private func stop() {
        if launched {
            try? stdin.fileHandleForWriting.close()
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            launched = false
        }
        removeTree(dir)
    }

    deinit { stop() }

    func url(_ path: String) -> String { "http://127.0.0.1:\(httpPort)\(path)" }
    func tls(_ path: String) -> String { "https://127.0.0.1:\(httpsPort)\(path)" }
}

extension Scratch {
    /// Path of a stored artifact of an entry.
    func artifact(_ id: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try sx(["show", id, "--json"])
        let j = try #require(r.json as? [String: Any], "show \(id): \(r.status) \(r.err)", sourceLocation: sourceLocation)
        let a = try #require((j["artifacts"] as? [[String: Any]])?.first { $0["name"] as? String == name }, "\(id) has no artifact \(name)",
                             sourceLocation: sourceLocation)
        let sha = try #require(a["sha256"] as? String, sourceLocation: sourceLocation)
        return home + "/objects/sha256/\(sha.prefix(2))/\(sha)"
    }

    func manifest(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let d = try Data(contentsOf: URL(fileURLWithPath: try artifact(id, "manifest.json", sourceLocation: sourceLocation)))
        return try #require(try JSONSerialization.jsonObject(with: d) as? [String: Any], sourceLocation: sourceLocation)
    }

    /// Both outside validators must accept the WARC.
    func checkWARC(_ path: String) throws -> (warcio: Result, fastwarc: Result) {
        (try run([venvBin + "/warcio", "check", "-v", path]), try run([venvBin + "/fastwarc", "check", "-p", "-q", path]))
    }

    /// Records of a WARC as warcio reads them: type, target URI, raw block bytes after the HTTP head (hex).
    func warcRecords(_ path: String) throws -> [[String: String]] {
        let script = """
        import sys, json
        from warcio.archiveiterator import ArchiveIterator
        out = []
        with open(sys.argv[1], 'rb') as f:
            for r in ArchiveIterator(f, no_record_parse=False):
                raw = r.raw_stream.read()
                out.append({'type': r.rec_type, 'uri': r.rec_headers.get_header('WARC-Target-URI') or '',
                            'truncated': r.rec_headers.get_header('WARC-Truncated') or '',
                            'status': r.http_headers.get_statuscode() if r.http_headers and r.rec_type == 'response' else '',
                            'raw_hex': raw.hex(), 'ctype': r.rec_headers.get_header('Content-Type') or ''})
        print(json.dumps(out))
        """
        let r = try run([venvBin + "/python", "-c", script, path])
        try #require(r.status == 0, "warcio could not read \(path): \(r.err)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: String]])
    }
}

func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(s.utf8.count / 2)
    var it = s.utf8.makeIterator()
    func v(_ c: UInt8) -> UInt8 { c >= 97 ? c - 87 : c - 48 }
    while let a = it.next(), let b = it.next() { out.append(v(a) << 4 | v(b)) }
    return out
}
