import Foundation
import Testing

@Suite(.needs(.openssl)) struct InitAndAddTests {
    @Test func initKeyAndReinit() throws {
        let s = Scratch("init")
        try s.initNode()
        let again = try s.sx(["init", "--node-id", "330603", "--name", "x", "--role", "county"])
        #expect(again.status == 73)
        #expect(again.err.contains("refusing"))
        let key = try s.sx(["key", "--json"])
        let k = try #require(key.json as? [String: Any], "key --json: \(key.out)")
        let ed = try #require(k["ed25519"] as? [String: Any])
        let sm2 = try #require(k["sm2"] as? [String: Any])
        // The vkey's public key equals the one in the PEM file, read by openssl independently.
        let pemDump = try s.run(["openssl", "pkey", "-pubin", "-in", s.home + "/keys/ed25519.pub.pem", "-outform", "DER"])
        #expect(pemDump.status == 0)
        let der = try Data(contentsOf: URL(fileURLWithPath: s.home + "/keys/ed25519.pub.pem"))
        #expect(!der.isEmpty)
        let vkey = try #require(ed["vkey"] as? String)
        #expect(vkey.hasPrefix("sxevidence.shaoxing/330603+"))
        let material = Data(base64Encoded: String(vkey.split(separator: "+", maxSplits: 2)[2]))!
        #expect(material.first == 0x01 && material.count == 33)
        let spki = try s.run(["sh", "-c", "openssl pkey -pubin -in '\(s.home)/keys/ed25519.pub.pem' -outform DER | tail -c 32 | od -An -tx1 | tr -d ' \\n'"])
        #expect(spki.out == material.dropFirst().map { String(format: "%02x", $0) }.joined())
        #expect((sm2["vkey"] as? String)?.contains("+") == true)
        let bad = try Scratch("init2").sx(["init", "--node-id", "33060", "--name", "x", "--role", "county"])
        #expect(bad.status == 64)
        let badRole = try Scratch("init3").sx(["init", "--node-id", "330603", "--name", "x", "--role", "province"])
        #expect(badRole.status == 64)
    }

    @Test func missingHome() throws {
        let s = Scratch("nohome")
        let r = try s.sx(["log"])
        #expect(r.status == 66)
        #expect(r.err.contains("sxevidence init"))
        let zh = try s.sx(["log"], env: ["LANG": "zh_CN.UTF-8"])
        #expect(zh.err.contains("不是节点目录"))
        let forcedEn = try s.sx(["log", "--lang", "en"], env: ["LANG": "zh_CN.UTF-8"])
        #expect(forcedEn.err.contains("not a node home"))
        let viaEnv = try s.sx(["log"], env: ["SXEVIDENCE_HOME": s.dir + "/elsewhere"], withHome: false)
        #expect(viaEnv.err.contains("elsewhere"))
    }

    /// Usage errors speak the officer's language (sxevidence(1), --lang): a Chinese first line under
    /// LANG=zh or --lang zh, English otherwise; sizes and durations are range-checked before parsing
    /// finishes (an overflowing --max-size is a usage error, not a crash).
    @Test func usageErrorsInBothLanguages() throws {
        let s = Scratch("usage")
        let zh = try s.sx(["show"], env: ["LANG": "zh_CN.UTF-8"])
        #expect(zh.status == 64 && zh.err.hasPrefix("错误：缺少参数 <id>"), "\(zh.err)")
        let en = try s.sx(["show"])
        #expect(en.status == 64 && en.err.hasPrefix("Error: Missing expected argument '<id>'"), "\(en.err)")
        let forced = try s.sx(["capture", "--lang", "zh", "--max-size", "5Q", "--case", "C", "--officer", "A", "http://127.0.0.1:9/"])
        #expect(forced.status == 64 && forced.err.hasPrefix("错误：--max-size <max-size> 的取值 5Q 无效"), "\(forced.err)")
        for bad in ["99999999999G", "0", "-1K", "1.5M", "K"] {
            let r = try s.sx(["capture", "--max-size=\(bad)", "--case", "C", "--officer", "A", "http://127.0.0.1:9/"])
            #expect(r.status == 64 && r.err.contains("'\(bad)' is invalid for '--max-size"), "\(bad): \(r.status) \(r.err)")
        }
        for bad in ["0", "-5s", "nan", "inf", "10x"] {
            let r = try s.sx(["live", "--duration=\(bad)", "--case", "C", "--officer", "A", "http://127.0.0.1:9/"])
            #expect(r.status == 64 && r.err.contains("'\(bad)' is invalid for '--duration"), "\(bad): \(r.status) \(r.err)")
        }
        let tooLong = try s.sx(["live", "--lang", "zh", "--duration", "8d", "--case", "C", "--officer", "A", "http://127.0.0.1:9/"])
        #expect(tooLong.status == 64, "\(tooLong.err)")
    }

    /// Digests are checked against sha256sum and openssl's SM3; stored objects against the originals.
    @Test func addFilesAndBatch() throws {
        let s = Scratch("add")
        try s.initNode()
        let a = s.write("photo 1.jpg", pseudoRandom(3_000_003, seed: 1))
        let b = s.write("告知书.pdf", pseudoRandom(10, seed: 2))
        let r = try s.sx(["add", a, b, "--case", "SX-2026-001", "--officer", "A01", "--note", "现场拍照"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.lines.count == 2)
        for (line, path) in zip(r.lines, [a, b]) {
            let f = line.split(separator: "\t").map(String.init)
            let sha = try s.run(["sha256sum", path]).out.prefix(64)
            let sm3 = try s.run(["openssl", "dgst", "-sm3", "-r", path]).out.prefix(64)
            #expect(f[2] == "sha256:" + sha)
            #expect(f[3] == "sm3:" + sm3)
            let stored = s.home + "/objects/sha256/\(sha.prefix(2))/\(sha)"
            #expect(FileManager.default.contentsEqual(atPath: stored, andPath: path))
        }
        #expect(r.lines[0].hasPrefix("330603-000001\t"))
        // A batch from standard input, in order.
        var list = ""
        for i in 0..<30 { list += s.write("b\(i).txt", "item \(i)\n") + "\n" }
        let batch = try s.sx(["add", "--from", "-", "--case", "SX-2026-002", "--officer", "A02", "--json"], stdin: list)
        #expect(batch.status == 0, "\(batch.err)")
        let objs = try batch.lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "\($0)") }
        #expect(objs.count == 30)
        #expect(objs.map { $0["id"] as? String } == (3...32).map { String(format: "330603-%06d", $0) })
        #expect(objs[5]["name"] as? String == "b5.txt")
        let log = try #require(try s.sx(["log", "--case", "SX-2026-002", "--json"]).json as? [[String: Any]])
        #expect(log.count == 30)
        let v = try s.sx(["verify", "--json"])
        #expect(v.status == 0, "\(v.out)")
        #expect((v.json as? [String: Any])?["ok"] as? Bool == true)
    }

    @Test func badFilesWriteNothing() throws {
        let s = Scratch("bad")
        try s.initNode()
        let good = s.write("good.txt", "ok")
        let missing = try s.sx(["add", good, s.dir + "/nope.txt", "--case", "C", "--officer", "A"])
        #expect(missing.status == 66)
        #expect(missing.err.contains("nope.txt"))
        let dir = try s.sx(["add", good, s.dir, "--case", "C", "--officer", "A"])
        #expect(dir.status == 64)
        #expect(dir.err.contains("directory"))
        _ = try s.run(["mkfifo", s.dir + "/fifo"])
        let fifo = try s.sx(["add", "--from", "-", "--case", "C", "--officer", "A"], stdin: s.dir + "/fifo\n")
        #expect(fifo.status == 64)
        #expect(try s.ledgerIDs().isEmpty)
        let emptyCase = try s.sx(["add", good, "--case", " ", "--officer", "A"])
        #expect(emptyCase.status == 64)
        let noFiles = try s.sx(["add", "--case", "C", "--officer", "A"])
        #expect(noFiles.status == 64)
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.home + "/objects/tmp").isEmpty)
        #expect(try s.ledgerIDs().isEmpty)
        let unknown = try s.sx(["show", "330603-000099"])
        #expect(unknown.status == 66)
    }

    @Test func checkpointSizeErrors() throws {
        let s = Scratch("size")
        try s.initNode()
        _ = try s.sx(["add", s.write("a", "a"), s.write("b", "b"), "--case", "C", "--officer", "A"])
        #expect(try s.sx(["checkpoint", "--size=-1"]).status == 64)
        #expect(try s.sx(["checkpoint", "--size", "9"]).status == 64)
        #expect(try s.sx(["checkpoint", "--size", "abc"]).status == 64)
        #expect(try s.sx(["checkpoint", "--size", "1"]).status == 66)
        #expect(try s.sx(["checkpoint", "--size", "2"]).status == 0)
        #expect(try s.sx(["checkpoint", "--size", "0"]).status == 0)
        #expect(try s.sx(["proof", "consistency", "0", "2"]).status == 64)
        #expect(try s.sx(["proof", "inclusion", "330603-000002", "--size", "0"]).status == 64)
    }
}

/// A damaged object (emptied, as by a crash before its flush) is replaced when the file is added again.
@Suite struct DamagedObjectTests {
    @Test func reAddRepairsDamagedObject() throws {
        let s = Scratch("damaged")
        try s.initNode()
        let f = s.write("photo.jpg", pseudoRandom(4000, seed: 5))
        #expect(try s.sx(["add", f, "--case", "C", "--officer", "A"]).status == 0)
        let sha = String(try s.run(["sha256sum", f]).out.prefix(64))
        let obj = s.home + "/objects/sha256/\(sha.prefix(2))/\(sha)"
        _ = try s.run(["sh", "-c", "chmod u+w '\(obj)' && : > '\(obj)'"])
        #expect(try s.sx(["verify"]).status == 1)
        #expect(try s.sx(["add", f, "--case", "C", "--officer", "A"]).status == 0)
        #expect(FileManager.default.contentsEqual(atPath: obj, andPath: f))
        #expect(try s.sx(["verify"]).status == 0)
    }
}
