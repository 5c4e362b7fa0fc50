import Foundation
import Testing
import SXEvidenceCore
#if canImport(Glibc)
import Glibc
#endif

/// One `sxevidence serve` process for a node home on 127.0.0.1.
final class NodeProcess {
    let id: String
    let home: String
    private(set) var port = 0
    private var process: Process?
    private var stdinPipe: Pipe?

    init(id: String, home: String) {
        self.id = id
        self.home = home
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var running: Bool { process?.isRunning ?? false }

    /// Start on `port` (0 the first time: a free port is picked and kept for restarts).
    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["serve", "--home", home, "--listen", "127.0.0.1:\(port)"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        let text = readFirstLine(out)
        guard text.hasPrefix("listening "), let got = Int(text.split(separator: ":").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") else {
            p.terminate()
            p.waitUntilExit()
            throw EvidenceTestError("node \(id) did not start: \(text)")
        }
        port = got
        process = p
    }

    /// SIGTERM (graceful) or SIGKILL; returns the exit status.
    @discardableResult
    func stop(kill hard: Bool = false) -> Int32 {
        guard let p = process, p.isRunning else { return 0 }
        kill(p.processIdentifier, hard ? SIGKILL : SIGTERM)
        p.waitUntilExit()
        process = nil
        return p.terminationStatus
    }

    deinit { stop(kill: true) }
}

func expectOK(_ r: Result, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(r.status == 0, "\(what) exit \(r.status): \(r.err) \(r.out)", sourceLocation: sourceLocation)
    if r.status != 0 { throw EvidenceTestError("\(what) failed: \(r.err)") }
}

struct EvidenceTestError: Error, CustomStringConvertible {
    let description: String
    init(_ s: String) { description = s }
}

/// The city 330600 and six counties as separate server processes (the issue's 7-node test).
@Suite(.serialized, .needs(.python3, .openssl, .sqlite3, .curl)) struct ConsortiumNodesTests {
    static let counties = ["330602": "越城", "330603": "柯桥", "330604": "上虞", "330624": "新昌", "330681": "诸暨", "330683": "嵊州"]

    final class Net: @unchecked Sendable {
        let s = Scratch("consortium")
        var nodes: [String: NodeProcess] = [:]
        var cityKey = ""
        var city: NodeProcess { nodes["330600"]! }
        let countyIDs: [String]

        func home(_ id: String) -> String { s.dir + "/" + id }

        // The servers stop before their homes (in `s`) are removed.
        deinit { for n in nodes.values { n.stop(kill: true) } }

        @discardableResult
        func sx(_ id: String, _ args: [String], stdin: String? = nil) throws -> Result {
            try s.run([binary] + args + ["--home", home(id)], stdin: stdin)
        }

        init(counties: [String] = ConsortiumNodesTests.counties.keys.sorted(), tsa: Bool = false) throws {
            countyIDs = counties
            try initNode("330600", name: "绍兴市市场监管局", role: "city")
            if tsa { try expectOK(sx("330600", ["tsa", "init"])) }
            for id in countyIDs { try initNode(id, name: ConsortiumNodesTests.counties[id]! + "区市场监管局", role: "county") }
            for (id, n) in nodes { _ = id; try n.start() }
            try expectOK(sx("330600", ["consortium", "init", "--endpoint", city.url]))
            for id in countyIDs {
                let card = try sx(id, ["key", "--json"]).out
                try expectOK(sx("330600", ["consortium", "add", "--card", "-", "--endpoint", nodes[id]!.url], stdin: card))
            }
            cityKey = try sx("330600", ["key"]).lines[2]
            try distributePolicy()
            if tsa {
                for id in countyIDs {
                    try expectOK(sx(id, ["timestamp", "trust", city.url + "/tsa", "--ca", home("330600") + "/tsa/ca.pem", "--sm3"]))
                }
            }
        }

        func initNode(_ id: String, name: String, role: String, keys: String? = nil) throws {
            try expectOK(sx(id, ["init", "--node-id", id, "--name", name, "--role", role] + (keys.map { ["--keys", $0] } ?? [])))
            if nodes[id] == nil { nodes[id] = NodeProcess(id: id, home: home(id)) }
        }

        func distributePolicy(to ids: [String]? = nil) throws {
            let file = s.dir + "/policy.note"
            try expectOK(sx("330600", ["consortium", "export", "--out", file]))
            for id in ids ?? countyIDs {
                let first = !FileManager.default.fileExists(atPath: home(id) + "/consortium.policy")
                try expectOK(sx(id, ["consortium", "import", file] + (first ? ["--city-key", cityKey] : [])))
            }
        }

        func addFiles(_ id: String, count: Int, tag: String) throws {
            let dir = s.dir + "/files-\(id)-\(tag)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var list = ""
            for i in 0..<count {
                let p = "\(dir)/e\(i).txt"
                try? (Data("\(id) \(tag) evidence \(i)\n".utf8)).write(to: URL(fileURLWithPath: p))
                list += p + "\n"
            }
            try expectOK(sx(id, ["add", "--from", "-", "--case", "SX-\(id)-\(tag)", "--officer", "A\(id)"], stdin: list))
        }

        func size(_ id: String) throws -> Int64 {
            let r = try sx(id, ["checkpoint", "--json"])
            return ((r.json as? [String: Any])?["size"] as? NSNumber)?.int64Value ?? -1
        }

        /// The city's view of every county, read from `verify --consortium --json`.
        func cityView() throws -> (ok: Bool, nodes: [String: [String: Any]], raw: Result) {
            let r = try sx("330600", ["verify", "--consortium", "--json"])
            let o = r.json as? [String: Any] ?? [:]
            var byNode: [String: [String: Any]] = [:]
            for n in o["nodes"] as? [[String: Any]] ?? [] { byNode[n["node"] as? String ?? ""] = n }
            return (o["ok"] as? Bool ?? false, byNode, r)
        }

        /// Every county syncs; then the city's replica of each equals the county's own ledger, every
        /// checkpoint is anchored, and each county holds the city's cosignature on its latest checkpoint.
        func expectConverged(_ ids: [String]? = nil, _ note: String) throws {
            for id in ids ?? countyIDs { try expectOK(sx(id, ["sync"]), "\(note): sync \(id)") }
            let view = try cityView()
            #expect(view.ok, "\(note): verify --consortium: \(view.raw.out) \(view.raw.err)")
            for id in ids ?? countyIDs {
                let n = view.nodes[id] ?? [:]
                #expect((n["size"] as? NSNumber)?.int64Value == (try size(id)), "\(note): replica of \(id) has \(n["size"] ?? "-") entries")
                #expect(n["latest_anchored"] as? Bool == true, "\(note): \(id) latest checkpoint not anchored")
                let cp = try sx(id, ["checkpoint", "--json"]).json as? [String: Any]
                #expect(((cp?["cosignatures"] as? [String]) ?? []).count == 2, "\(note): \(id) lacks the city's cosignature")
            }
            #expect(try sx("330600", ["verify"]).status == 0, "\(note): city's own ledger")
        }
    }

    @Test func sevenNodes() throws {
        let net = try Net()
        let ids = net.countyIDs

        // Counties add evidence concurrently, then all sync at once.
        DispatchQueue.concurrentPerform(iterations: ids.count) { i in
            for round in 0..<3 { try? net.addFiles(ids[i], count: 4 + i, tag: "r\(round)") }
        }
        for id in ids { #expect(try net.size(id) == Int64(3 * (4 + ids.firstIndex(of: id)!)), "adds on \(id)") }
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<Int32>.allocate(capacity: ids.count)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: ids.count) { i in results[i] = (try? net.sx(ids[i], ["sync"]).status) ?? -1 }
        #expect(Array(results) == Array(repeating: 0, count: ids.count))
        try net.expectConverged(nil, "first round")

        // The anchors are in the city's own ledger: one anchor entry per county checkpoint cosigned.
        let log = try net.sx("330600", ["log", "--json"]).json as? [[String: Any]] ?? []
        #expect(log.filter { $0["kind"] as? String == "anchor" }.count == ids.count)

        // C2SP tlog-witness add-checkpoint on the city: a stale old size gets 409 and the size held.
        let cp = try net.sx("330603", ["checkpoint"]).out
        let held = try net.size("330603")
        let stale = try net.s.run(["curl", "-s", "-o", "/dev/stdout", "-w", "\n%{http_code} %{content_type}", "--data-binary", "@-",
                                   net.city.url + "/add-checkpoint"], stdin: "old 0\n\n" + cp)
        #expect(stale.out.hasSuffix("409 text/x.tlog.size"), "\(stale.out)")
        #expect(stale.out.hasPrefix("\(held)\n"))

        // 1. A county offline during a pull round, back later.
        #expect(net.nodes["330624"]!.stop() == 0, "graceful SIGTERM")
        try net.addFiles("330624", count: 5, tag: "offline")
        try net.addFiles("330602", count: 3, tag: "pulled")
        let pull = try net.sx("330600", ["sync", "--pull", "--json"])
        #expect(pull.status == 75, "pull with a county down: \(pull.status) \(pull.out)")
        let pulled = (pull.json as? [String: Any])?["pulled"] as? [[String: Any]] ?? []
        #expect(pulled.first { $0["node"] as? String == "330624" }?["ok"] as? Bool == false)
        #expect(pulled.first { $0["node"] as? String == "330602" }?["ok"] as? Bool == true)
        #expect(try net.cityView().nodes["330602"]?["size"] as? NSNumber == NSNumber(value: try net.size("330602")))
        try net.nodes["330624"]!.start()
        #expect(try net.sx("330600", ["sync", "--pull", "330624"]).status == 0)
        try net.expectConverged(nil, "after a county was offline")

        // 2. The city killed with SIGKILL in the middle of a county's sync, then restarted.
        // 30 registrations of 50 files: 30 checkpoints, so the sync below is 30 batches.
        for k in 0..<30 { try net.addFiles("330681", count: 50, tag: "bulk\(k)") }
        let syncing = Process()
        syncing.executableURL = URL(fileURLWithPath: binary)
        syncing.arguments = ["sync", "--batch", "50", "--home", net.home("330681")]
        syncing.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        syncing.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try syncing.run()
        // Kill the city once part of the transfer has landed (polling its replica), not after a guess.
        let replicaDB = net.home("330600") + "/replicas/330681/ledger.db"
        let countBefore = try net.size("330681") - 1500
        for _ in 0..<1000 {
            let n = Int64((try? net.s.run(["sqlite3", replicaDB, "SELECT COUNT(*) FROM entries"]).out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "") ?? 0
            if n >= countBefore + 100 { break }
            usleep(10_000)
        }
        net.city.stop(kill: true)
        syncing.waitUntilExit()
        #expect(syncing.terminationStatus == 75, "sync cut by the city's death: \(syncing.terminationStatus)")
        // What the city acknowledged (cosignatures the county holds) survived the kill.
        let acked = try net.s.run(["sqlite3", net.home("330681") + "/ledger.db", "SELECT COALESCE(MAX(size),0) FROM cosignatures"]).out
        try net.city.start()
        let replicaSize = try net.s.run(["sqlite3", net.home("330600") + "/replicas/330681/ledger.db", "SELECT COUNT(*) FROM entries"]).out
        #expect(Int(replicaSize.trimmingCharacters(in: .whitespacesAndNewlines))! >= Int(acked.trimmingCharacters(in: .whitespacesAndNewlines))!,
                "acknowledged \(acked) but replica holds \(replicaSize)")
        #expect(Int(replicaSize.trimmingCharacters(in: .whitespacesAndNewlines))! < Int(try net.size("330681")), "the kill was not mid-sync")
        try net.expectConverged(nil, "after the city was killed")

        // 3. A transfer cut halfway: the upload breaks off at a proxy; nothing half-written is kept.
        let bigBytes = pseudoRandom(6 << 20, seed: 7)
        let big = net.s.write("big.bin", bigBytes)
        let bigSHA = Hex.encode(Hashing.sha256(bigBytes))
        let bigAtCity = net.home("330600") + "/objects/sha256/\(bigSHA.prefix(2))/\(bigSHA)"
        try expectOK(net.sx("330604", ["add", big, "--case", "SX-BIG", "--officer", "A1"]))
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proxy.arguments = ["python3", repoRoot.appendingPathComponent("Tests/tools/cut_proxy.py").path, String(net.city.port), String(3 << 20)]
        let pout = Pipe(), pin = Pipe()
        proxy.standardOutput = pout
        proxy.standardInput = pin
        try proxy.run()
        // Read the whole "READY <port>" line (one read may return only part of it).
        var readyBytes = Data()
        while !readyBytes.contains(0x0A) {
            let d = pout.fileHandleForReading.availableData
            if d.isEmpty { break }
            readyBytes += d
        }
        let ready = String(decoding: readyBytes, as: UTF8.self)
        let proxyPort = ready.split(separator: " ").last!.trimmingCharacters(in: .whitespacesAndNewlines)
        let before = try net.cityView().nodes["330604"]?["size"] as? NSNumber
        let cut = try net.sx("330604", ["sync", "--city", "http://127.0.0.1:\(proxyPort)"])
        #expect(cut.status == 75, "cut upload: \(cut.status) \(cut.err)")
        try? pin.fileHandleForWriting.close()
        proxy.waitUntilExit()
        // Entries go first and are cosigned with the object still absent (the city accepts an object
        // only for an entry it holds); the cut upload stores nothing, and the next sync completes it.
        #expect((try net.cityView().nodes["330604"]?["size"] as? NSNumber)?.int64Value == (before?.int64Value ?? -1) + 1, "the entry was pushed before the cut upload: \(String(describing: before)) \(cut.err)")
        #expect(!FileManager.default.fileExists(atPath: bigAtCity), "a cut upload left the object at the city")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: net.home("330600") + "/objects/tmp")
        #expect(leftovers.isEmpty, "temporary files left by the cut upload: \(leftovers)")
        try expectOK(net.sx("330604", ["sync"]))
        #expect(FileManager.default.fileExists(atPath: bigAtCity), "the next sync delivered the object the cut upload lost")
        // The same by file: an export cut in half imports the whole batches before the cut, then stops.
        try net.addFiles("330683", count: 30, tag: "file")
        let exportFile = net.s.dir + "/330683.sxt"
        try expectOK(net.sx("330683", ["sync", "--export", exportFile, "--batch", "5"]))
        let data = try Data(contentsOf: URL(fileURLWithPath: exportFile))
        let half = net.s.write("330683-half.sxt", [UInt8](data.prefix(data.count / 2)))
        let partial = try net.sx("330600", ["sync", "--import", half])
        #expect(partial.status == 65, "half a transfer file: \(partial.status) \(partial.err)")
        #expect(try net.cityView().ok)
        try expectOK(net.sx("330600", ["sync", "--import", exportFile]))
        try expectOK(net.sx("330600", ["sync", "--import", exportFile]), "importing twice is a no-op")
        try net.expectConverged(nil, "after cut transfers")

        // 4. A county whose database is replaced by a rewritten history signed with its real key.
        let victim = "330602"
        let keep = net.s.dir + "/330602-keys"
        try FileManager.default.copyItem(atPath: net.home(victim) + "/keys", toPath: keep)
        let honestIDs = try net.sx(victim, ["log", "--json"]).json as? [[String: Any]] ?? []
        net.nodes[victim]!.stop()
        try FileManager.default.moveItem(atPath: net.home(victim), toPath: net.s.dir + "/330602-honest")
        try net.initNode(victim, name: "越城区市场监管局", role: "county", keys: keep)
        try net.distributePolicy(to: [victim])
        try net.addFiles(victim, count: honestIDs.count + 4, tag: "rewritten")
        let forked = try net.sx(victim, ["sync"])
        #expect(forked.status == 1, "rewritten history pushed: \(forked.status) \(forked.err)")
        let alerts = try net.sx("330600", ["consortium", "alerts", "--json", "--export", net.s.dir + "/alerts"])
        #expect(alerts.status == 1)
        let files = (alerts.json as? [String: Any])?["files"] as? [String] ?? []
        #expect(files.count == 1)
        if let f = files.first {
            // A third party with only the policy checks the proof.
            try expectOK(net.s.run([binary, "consortium", "verify-fork", f, "--policy", net.s.dir + "/policy.note", "--city-key", net.cityKey]), "verify-fork")
            // Under a policy given alone (it could be a rogue consortium's), the proof holds but is unconfirmed.
            let alone = try net.s.run([binary, "consortium", "verify-fork", f, "--policy", net.s.dir + "/policy.note"])
            #expect(alone.status == 2 && alone.out.contains("city key ed25519 sha256:"), "\(alone.status) \(alone.out)")
        }
        #expect(try net.cityView().nodes[victim]?["size"] as? NSNumber == NSNumber(value: honestIDs.count), "the fork changed the replica")
        let afterFork = try net.cityView()
        #expect(afterFork.nodes[victim]?["ok"] as? Bool == false, "an open fork alert must fail verify --consortium: \(afterFork.raw.out)")
        // The same with a rewritten history of exactly the size the city holds (only the checkpoint is sent).
        try FileManager.default.moveItem(atPath: net.home(victim), toPath: net.s.dir + "/330602-rewritten-1")
        try net.initNode(victim, name: "越城区市场监管局", role: "county", keys: keep)
        try net.distributePolicy(to: [victim])
        try net.addFiles(victim, count: honestIDs.count, tag: "same-size")
        let sameSize = try net.sx(victim, ["sync"])
        #expect(sameSize.status == 1, "same-size rewritten history: \(sameSize.status) \(sameSize.err)")
        let alerts2 = try net.sx("330600", ["consortium", "alerts", "--json"]).json as? [String: Any]
        #expect(alerts2?["open"] as? Int == 2)
        // Converge: the county is rebuilt from the city's replica with its backed-up keys.
        try FileManager.default.moveItem(atPath: net.home(victim), toPath: net.s.dir + "/330602-rewritten")
        try expectOK(net.s.run([binary, "restore", "--from", net.city.url, "--keys", keep, "--city-key", net.cityKey, "--home", net.home(victim)]), "restore")
        try expectOK(net.sx(victim, ["verify"]), "restored county verifies")
        let restored = try net.sx(victim, ["log", "--json"]).json as? [[String: Any]] ?? []
        #expect(restored.map { $0["id"] as? String } == honestIDs.map { $0["id"] as? String }, "acknowledged evidence lost by the fork")
        try net.nodes[victim]!.start()
        try net.addFiles(victim, count: 2, tag: "after-restore")
        let alertIDs = ((alerts2?["alerts"] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? NSNumber)?.stringValue }
        #expect(alertIDs.count == 2, "\(alerts2 ?? [:])")
        for (k, id) in alertIDs.enumerated() {
            // Exit 1 while another alert is still open, 0 once the last is acknowledged.
            let ack = try net.sx("330600", ["consortium", "alerts", "--ack", id, "--note", "330602 restored from the city replica"])
            #expect(ack.status == (k == alertIDs.count - 1 ? 0 : 1), "ack #\(id) with \(alertIDs.count - k - 1) still open: exit \(ack.status) \(ack.err)")
        }
        #expect(try net.sx("330600", ["consortium", "alerts"]).status == 0, "all alerts acknowledged")
        try net.expectConverged(nil, "after the fork")

        // 5. Pushes signed by keys that are not members are refused.
        let outsider = "330699"
        try net.initNode(outsider, name: "外来节点", role: "county")
        try net.distributePolicy(to: [outsider])
        try net.addFiles(outsider, count: 2, tag: "x")
        let refused = try net.sx(outsider, ["sync"])
        #expect(refused.status == 77, "non-member push: \(refused.status) \(refused.err)")
        // A node claiming a member's ID with another key.
        let imp = net.s.dir + "/impostor"
        try expectOK(net.s.run([binary, "init", "--node-id", "330603", "--name", "冒名", "--role", "county", "--home", imp]))
        try FileManager.default.copyItem(atPath: net.home("330603") + "/consortium.policy", toPath: imp + "/consortium.policy")
        let impR = try net.s.run([binary, "sync", "--home", imp])
        #expect(impR.status == 77, "impostor push: \(impR.status) \(impR.err)")
        // A removed member is refused from the next policy version on.
        try expectOK(net.sx("330600", ["consortium", "remove", "330683"]))
        try net.addFiles("330683", count: 1, tag: "removed")
        #expect(try net.sx("330683", ["sync"]).status == 77)
        let card = try net.sx("330683", ["key", "--json"]).out
        try expectOK(net.sx("330600", ["consortium", "add", "--card", "-", "--endpoint", net.nodes["330683"]!.url], stdin: card))
        try net.distributePolicy()
        try net.expectConverged(nil, "after refused pushes")
        for id in ["330600"] + ids { #expect(net.nodes[id]!.stop() == 0, "graceful stop of \(id)") }
    }
}

/// The HTTP API's refusals, driven by an independent client (Tests/tools/signed_request.py, written
/// from sxevidence-consortium(5)) and curl.
@Suite(.serialized, .needs(.python3, .openssl, .curl)) struct ConsortiumAPITests {
    @Test func refusalsAndAccessRules() throws {
        let net = try ConsortiumNodesTests.Net(counties: ["330603", "330604"])
        try net.addFiles("330603", count: 2, tag: "a")
        try net.addFiles("330604", count: 2, tag: "b")
        try expectOK(net.sx("330603", ["sync"]))
        try expectOK(net.sx("330604", ["sync"]))
        let tool = repoRoot.appendingPathComponent("Tests/tools/signed_request.py").path
        func signed(_ node: String, _ path: String, method: String = "GET", extra: [String] = []) throws -> (Int, String) {
            let r = try net.s.run(["python3", tool, "--key", net.home(node) + "/keys/ed25519.pem", "--node", node, "--to", "330600", "--method", method] + extra + [net.city.url + path])
            let status = Int(r.out.split(separator: "\n").first ?? "") ?? -1
            return (status, String(r.out.drop(while: { $0 != "\n" }).dropFirst()))
        }
        // The independent client's signature is accepted: the protocol is what the man page says.
        let (st, note) = try signed("330603", "/v1/replicas/330603/checkpoint")
        #expect(st == 200 && note.hasPrefix("sxevidence.shaoxing/330603\n2\n"), "\(st) \(note)")
        // Replay of the same nonce, and a stale time, are refused.
        let nonce = "00112233445566778899aabbccddeeff"
        #expect(try signed("330603", "/v1/replicas/330603/checkpoint", extra: ["--nonce", nonce]).0 == 200)
        let replay = try signed("330603", "/v1/replicas/330603/checkpoint", extra: ["--nonce", nonce])
        #expect(replay.0 == 403 && replay.1.contains("nonce"), "\(replay)")
        let stale = try signed("330603", "/v1/replicas/330603/checkpoint", extra: ["--time", String(Int(Date().timeIntervalSince1970) - 1000)])
        #expect(stale.0 == 403 && stale.1.contains("away from the server clock"), "\(stale)")
        // Unsigned writes are refused.
        let unsigned = try net.s.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "x", net.city.url + "/v1/push"])
        #expect(unsigned.out == "403")
        // A body that is not the one signed is refused before it is parsed.
        let body = net.s.write("body.txt", "sxevidence-batch/1\n")
        let wrongDigest = try signed("330603", "/v1/push", method: "POST", extra: ["--body", body, "--claim", String(repeating: "0", count: 64)])
        #expect(wrongDigest.0 == 400, "\(wrongDigest)")
        // A malformed batch is refused and applies nothing; a node may not push another node's log.
        #expect(try signed("330603", "/v1/push", method: "POST", extra: ["--body", body]).0 == 400)
        // Objects: a county may fetch only what its own entries name; the bytes are the stored bytes.
        let mine = try net.sx("330604", ["log", "--json"]).json as? [[String: Any]] ?? []
        let id = try #require(mine.first?["id"] as? String)
        let show = try net.sx("330604", ["show", id, "--json"]).json as? [String: Any]
        let sha = try #require(((show?["artifacts"] as? [[String: Any]])?.first)?["sha256"] as? String)
        #expect(try signed("330603", "/v1/objects/\(sha)").0 == 403)
        let got = try signed("330604", "/v1/objects/\(sha)")
        #expect(got.0 == 200 && Hashing256.hex(Array(got.1.utf8)) == sha)
        #expect(try signed("330604", "/v1/objects/\(sha.uppercased())").0 == 400)
        // Bad ranges are refused without hurting the server.
        #expect(try signed("330603", "/v1/replicas/330603/batch?start=-1").0 == 400)
        #expect(try net.s.run(["curl", "-sf", net.city.url + "/health"]).status == 0)
        // Body limits: an object bundle over 32 MiB is refused.
        let huge = net.s.write("huge.bin", [UInt8](repeating: 0x41, count: (32 << 20) + 10))
        #expect(try signed("330603", "/v1/objects", method: "POST", extra: ["--body", huge]).0 == 413)
        // tlog-witness add-checkpoint: malformed, unknown origin, a checkpoint with only one of the two signatures.
        func witness(_ text: String) throws -> String {
            try net.s.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@-", net.city.url + "/add-checkpoint"], stdin: text).out
        }
        #expect(try witness("nonsense") == "400")
        let cp = try net.sx("330603", ["checkpoint"]).out
        #expect(try witness("old 0\n\n" + cp.replacingOccurrences(of: "sxevidence.shaoxing/330603", with: "example.com/log")) == "404")
        let oneSig = cp.split(separator: "\n", omittingEmptySubsequences: false).dropLast(2).joined(separator: "\n") + "\n"
        #expect(try witness("old 2\n\n" + oneSig) == "403", "\(oneSig)")
        #expect(try witness("old 2\n\n" + cp) == "200")
        #expect(try witness("old 2\n\n" + cp) == "200", "repeating add-checkpoint at the held size")
        // Nothing above changed what the city holds.
        let view = try net.cityView()
        #expect(view.ok, "\(view.raw.out)")
        #expect(try net.sx("330600", ["consortium", "alerts"]).status == 0)
    }
}

enum Hashing256 {
    static func hex(_ b: [UInt8]) -> String {
        let r = try? Scratch("h").run(["sh", "-c", "sha256sum | cut -c1-64"], stdin: String(decoding: b, as: UTF8.self))
        return r?.out.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }
}
