import Foundation

/// The fixture shop (fixtures/shop_server.py) on 127.0.0.1, HTTP and HTTPS with a CA the test makes.
final class ShopServer {
    let process = Process()
    let stdin = Pipe()
    let httpPort: Int
    let httpsPort: Int
    let blackholePort: Int
    let dir: String
    var caFile: String { dir + "/ca.pem" }
    var serverCert: String { dir + "/srv.pem" }

    init() throws {
        dir = NSTemporaryDirectory() + "sxe-shop-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let gen = """
        set -e; cd '\(dir)'
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=Fixture Shop Test CA' 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr -subj '/CN=127.0.0.1' 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext
        openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext 2>/dev/null
        cat srv.pem ca.pem > chain.pem
        """
        let g = Process()
        g.executableURL = URL(fileURLWithPath: "/bin/sh")
        g.arguments = ["-c", gen]
        try g.run()
        g.waitUntilExit()
        precondition(g.terminationStatus == 0, "certificate generation failed")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repoRoot.appendingPathComponent("fixtures/shop_server.py").path,
                             "--cert", dir + "/chain.pem", "--key", dir + "/srv.key"]
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            line.append(d)
        }
        let text = String(decoding: line, as: UTF8.self)
        let ports = text.split(separator: " ").compactMap { $0.split(separator: "=").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        precondition(ports.count == 3 && text.hasPrefix("READY"), "fixture server did not start: \(text)")
        httpPort = ports[0]
        httpsPort = ports[1]
        blackholePort = ports[2]
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(httpPort)\(path)" }
    func tls(_ path: String) -> String { "https://127.0.0.1:\(httpsPort)\(path)" }
}

let venvBin = repoRoot.appendingPathComponent(".venv/bin").path

extension Scratch {
    /// Path of a stored artifact of an entry.
    func artifact(_ id: String, _ name: String) throws -> String {
        let j = try sx(["show", id, "--json"]).json as! [String: Any]
        let a = (j["artifacts"] as! [[String: Any]]).first { $0["name"] as? String == name }!
        let sha = a["sha256"] as! String
        return home + "/objects/sha256/\(sha.prefix(2))/\(sha)"
    }

    func manifest(_ id: String) throws -> [String: Any] {
        let d = try Data(contentsOf: URL(fileURLWithPath: try artifact(id, "manifest.json")))
        return try JSONSerialization.jsonObject(with: d) as! [String: Any]
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
        return (try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: String]]) ?? []
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
