import Foundation
import Testing

/// A local port nobody listens on (bound, read, released).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: a.sin_port))
}

/// A running `sxevidence serve` of a city node with its own TSA.
final class CityTSA {
    let scratch: Scratch
    let port = freePort()
    let process = Process()
    var url: String { "http://127.0.0.1:\(port)/tsa" }
    var ca: String { scratch.home + "/tsa/ca.pem" }

    init() throws {
        scratch = Scratch("city")
        let r = try scratch.sx(["init", "--node-id", "330600", "--name", "绍兴市市场监管局", "--role", "city"])
        try #require(r.status == 0, "init of the city: \(r.err)")
        let t = try scratch.sx(["tsa", "init"])
        try #require(t.status == 0, "tsa init: \(t.err)")
        try start()
    }

    func start() throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--home", scratch.home, "--listen", "127.0.0.1:\(port)"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if (try? scratch.run(["curl", "-sf", "http://127.0.0.1:\(port)/health"]))?.status == 0 { return }
            usleep(50_000)
        }
        process.terminate()
        process.waitUntilExit()
        throw EvidenceTestError("the city's node server (sxevidence serve on port \(port)) did not answer /health")
    }

    deinit {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
    }
}

@Suite(.serialized, .needs(.curl, .sqlite3, .openssl, .python3)) struct TimestampCLITests {
    /// Tokens from our own TSA (served by `sxevidence serve`) on every checkpoint; checked by
    /// `openssl ts -verify` and by rfc3161-client, and by `verify`.
    @Test(.needs(.venvPython, .rfc3161Client)) func ownTSAOverHTTP() throws {
        let city = try CityTSA()
        let s = Scratch("ts")
        try s.initNode("330681")
        #expect(try s.sx(["timestamp", "trust", city.url, "--ca", city.ca, "--sm3"]).status == 0)
        let f = s.write("photo.jpg", pseudoRandom(5000, seed: 9))
        let add = try s.sx(["add", f, "--case", "C", "--officer", "A"])
        #expect(add.status == 0)
        #expect(!add.err.contains("pending"), "\(add.err)")
        let rows = try s.sqlite("SELECT subject, algorithm, status, token_sha256 FROM timestamps ORDER BY id").out
            .split(separator: "\n").map { $0.split(separator: "|").map(String.init) }
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { $0[0] == "checkpoint:1" && $0[2] == "granted" })
        #expect(Set(rows.map { $0[1] }) == ["sha256", "sm3"])
        // The token covers the signed checkpoint note exactly.
        let note = try #require((try s.sx(["checkpoint", "--json"]).json as? [String: Any])?["note"] as? String)
        let noteFile = s.write("note.txt", note)
        let sha = rows.first { $0[1] == "sha256" }![3]
        let token = s.home + "/objects/sha256/\(sha.prefix(2))/\(sha)"
        let o = try s.run(["openssl", "ts", "-verify", "-in", token, "-data", noteFile, "-CAfile", city.ca])
        #expect(o.status == 0 && o.out.contains("OK"), "\(o.out) \(o.err)")
        let py = try s.run([venvBin + "/python", repoRoot.appendingPathComponent("Tests/tools/rfc3161_check.py").path, token, noteFile, city.ca])
        #expect(py.out.hasPrefix("OK"), "\(py.out) \(py.err)")
        let other = s.write("other.txt", note + "x")
        #expect(try s.run(["openssl", "ts", "-verify", "-in", token, "-data", other, "-CAfile", city.ca]).status != 0)
        // One-off stamps and `timestamp verify`.
        let one = try s.sx(["timestamp", f, "--json"])
        #expect(one.status == 0)
        let first = try #require((one.json as? [[String: Any]])?.first { $0["algorithm"] as? String == "sha256" }, "\(one.out)")
        let tok = try #require(first["token_sha256"] as? String)
        let tv = try s.sx(["timestamp", "verify", s.home + "/objects/sha256/\(tok.prefix(2))/\(tok)", "--data", f, "--ca", city.ca, "--json"])
        #expect(tv.status == 0 && (tv.json as? [String: Any])?["ok"] as? Bool == true)
        let wrong = try s.sx(["timestamp", "verify", s.home + "/objects/sha256/\(tok.prefix(2))/\(tok)", "--data", noteFile, "--ca", city.ca])
        #expect(wrong.status == 1)
        #expect(wrong.err.contains("imprint"), "\(wrong.err)")
        let v = try #require(try s.sx(["verify", "--json"]).json as? [String: Any])
        let ts = try #require((v["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "timestamps" }, "\(v)")
        #expect(ts["ok"] as? Bool == true && ts["count"] as? Int == 4)
        // A stored token that is altered is caught by verify.
        _ = try s.run(["chmod", "u+w", token])
        _ = try s.run(["sh", "-c", "printf 'Z' | dd of='\(token)' bs=1 seek=200 conv=notrunc 2>/dev/null"])
        let bad = try s.sx(["verify", "--json"])
        #expect(bad.status == 1)
        #expect(((bad.json as? [String: Any])?["failures"] as? [[String: Any]])?.contains { ($0["evidence_id"] as? String) == "timestamp:checkpoint:1" } == true)
    }

    /// An unreachable TSA never blocks evidence: the entry commits, the stamp is pending, and
    /// `timestamp --pending` gets it once the TSA is back.
    @Test func pendingWhenTSAIsDown() throws {
        let port = freePort()
        let city = try CityTSA()
        let s = Scratch("pend")
        try s.initNode("330683")
        let downURL = "http://127.0.0.1:\(port)/tsa"
        #expect(try s.sx(["timestamp", "trust", downURL, "--ca", city.ca]).status == 0)
        let add = try s.sx(["add", s.write("a.txt", "a"), "--case", "C", "--officer", "A"])
        #expect(add.status == 0)
        #expect(add.out.hasPrefix("330683-000001"))
        #expect(add.err.contains("pending"))
        let v = try s.sx(["verify", "--json"])
        #expect(v.status == 0)
        // The TSA comes up on that port: pending stamps are obtained.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["serve", "--home", city.scratch.home, "--listen", "127.0.0.1:\(port)"]
        try p.run()
        defer { p.terminate(); p.waitUntilExit() }
        for _ in 0..<100 where (try? s.run(["curl", "-sf", "http://127.0.0.1:\(port)/health"]))?.status != 0 { usleep(50_000) }
        let retry = try s.sx(["timestamp", "--pending", "--json"])
        #expect(retry.status == 0, "\(retry.out) \(retry.err)")
        #expect((retry.json as? [[String: Any]])?.first?["status"] as? String == "granted")
        let rows = try s.sqlite("SELECT status FROM timestamps ORDER BY id").out
        #expect(rows == "pending\ngranted\n")
    }

    /// A TSA built from `openssl ts -reply` is accepted; its bad answers are refused with a reason.
    @Test func openSSLTSAAndBadAnswers() throws {
        let s = Scratch("ossl")
        try s.initNode("330624")
        let dir = s.dir + "/tsa"
        try expectOK(s.run(["sh", makePKI, dir, "tsa", "/CN=OpenSSL TSA CA", "/CN=OpenSSL TSA"]), "make_pki.sh")
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", repoRoot.appendingPathComponent("fixtures/openssl_tsa.py").path, dir]
        let out = Pipe(), inp = Pipe()
        server.standardOutput = out
        server.standardInput = inp
        try server.run()
        defer { try? inp.fileHandleForWriting.close(); server.terminate(); server.waitUntilExit() }
        let ready = readFirstLine(out)
        let port = ready.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        let base = "http://127.0.0.1:\(port)"
        _ = try s.sx(["add", s.write("x.txt", "x"), "--case", "C", "--officer", "A"])
        let good = try s.sx(["timestamp", "--checkpoint", "--tsa", base + "/tsa", "--ca", dir + "/ca.pem", "--json"])
        #expect(good.status == 0, "\(good.out) \(good.err)")
        #expect((good.json as? [[String: Any]])?.first?["policy"] as? String == "1.2.3.4.1")
        for (path, reason) in [("/wrong-nonce", "nonce"), ("/500", "HTTP 500"), ("/garbage", "TimeStampResp")] {
            let r = try s.sx(["timestamp", "--checkpoint", "--tsa", base + path, "--ca", dir + "/ca.pem", "--json"])
            #expect(r.status == 75, "\(path)")
            let e = ((r.json as? [[String: Any]])?.first?["error"] as? String) ?? ""
            #expect(e.contains(reason), "\(path): \(e)")
        }
        // A TSA trusted under a different root is refused.
        let city = try CityTSA()
        let untrusted = try s.sx(["timestamp", "--checkpoint", "--tsa", city.url, "--ca", dir + "/ca.pem", "--json"])
        #expect(untrusted.status == 75)
        #expect((((untrusted.json as? [[String: Any]])?.first?["error"] as? String) ?? "").contains("certificate"))
    }

    @Test func serverStopsOnSIGTERM() throws {
        let city = try CityTSA()
        kill(city.process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while city.process.isRunning && Date() < deadline { usleep(20_000) }
        #expect(!city.process.isRunning)
        #expect(city.process.terminationStatus == 0)
    }
}
