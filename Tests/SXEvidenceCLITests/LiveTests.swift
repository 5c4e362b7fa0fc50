import Foundation
import Testing

/// The simulated live stream (fixtures/live_server.py), run with the project venv's Python, with
/// its own $TMPDIR, removed when it stops (with --video it leaves its ffmpeg clips in a mkdtemp()
/// folder).
final class LiveServer {
    let process = Process()
    let stdin = Pipe()
    let port: Int
    let tmp = NSTemporaryDirectory() + "sxe-live-\(UUID().uuidString.prefix(8))"

    init(_ args: [String]) throws {
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: venvBin + "/python")
        process.arguments = [repoRoot.appendingPathComponent("fixtures/live_server.py").path] + args
        var env = ProcessInfo.processInfo.environment
        env["TMPDIR"] = tmp
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        try process.run()
        let line = readFirstLine(out)
        port = Int(line.split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        guard port > 0 else {
            removeTree(tmp)
            throw EvidenceTestError("live server (fixtures/live_server.py \(args)) did not start: \(line)")
        }
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        removeTree(tmp)
    }

    func url(_ p: String) -> String { "http://127.0.0.1:\(port)\(p)" }

    /// Every (variant, sequence) the server listed in a playlist it served.
    func published(_ variant: String) throws -> Set<Int> {
        let r = try Scratch("pub").run(["curl", "-sf", url("/published")])
        try #require(r.status == 0, "GET /published: \(r.err)")
        let pairs = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[Any]], "\(r.out)")
        return Set(try pairs.filter { $0.first as? String == variant }.map { try #require($0.last as? Int, "\($0)") })
    }
}

/// The snapshot lines `live --json` printed.
func snapshots(_ r: Result) -> [[String: Any]] {
    r.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}

/// The last snapshot `live --json` printed (the final one), which must be there.
func lastSnapshot(_ r: Result, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    try #require(snapshots(r).last, "live printed no snapshot: exit \(r.status) \(r.err)", sourceLocation: sourceLocation)
}

/// The evidence ID of the last snapshot.
func lastID(_ r: Result, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let last = try lastSnapshot(r, sourceLocation: sourceLocation)
    return try #require(last["id"] as? String, "snapshot without an id: \(last)", sourceLocation: sourceLocation)
}

/// The live manifest of an entry.
func liveManifest(_ s: Scratch, _ id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let d = try Data(contentsOf: URL(fileURLWithPath: try s.artifact(id, "live-manifest.json", sourceLocation: sourceLocation)))
    return try #require(try JSONSerialization.jsonObject(with: d) as? [String: Any], sourceLocation: sourceLocation)
}

/// `live URL --json` on `s` for up to `duration`, sent SIGTERM after `after` seconds: how long it took
/// to stop after the signal, and its last snapshot.
func liveUntilSIGTERM(_ s: Scratch, _ url: String, duration: String, after: UInt32) throws -> (stopSeconds: TimeInterval, last: [String: Any]) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = ["live", url, "--case", "C", "--officer", "A", "--duration", duration, "--json", "--home", s.home]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    sleep(after)
    let t0 = Date()
    kill(p.processIdentifier, SIGTERM)
    p.waitUntilExit()
    let stopped = Date().timeIntervalSince(t0)
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (stopped, try lastSnapshot(Result(status: p.terminationStatus, out: text, err: "")))
}

@Suite(.needs(.venvPython, .cryptography, .curl, .python3, .warcio, .fastwarc))
struct LiveTests {
    func live(_ s: Scratch, _ args: [String]) throws -> Result {
        try s.sx(["live", "--case", "ZJ-2026-LIVE", "--officer", "A01", "--json"] + args)
    }

    func manifest(_ s: Scratch, _ id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try liveManifest(s, id, sourceLocation: sourceLocation)
    }

    /// Sliding window with a sequence jump and discontinuities: every published segment captured
    /// once, the jump recorded as a gap, the chain recomputed independently, the WARC parts valid.
    @Test func slidingWindowSetEqualsPublished() throws {
        let server = try LiveServer(["--target", "1", "--window", "3", "--endlist", "9", "--jump-at", "4", "--discontinuity-every", "3"])
        let s = Scratch("live")
        try s.initNode("330681")
        let r = try live(s, [server.url("/master.m3u8"), "--duration", "30s", "--snapshot-every", "3s"])
        #expect(r.status == 0, "\(r.err)")
        let snaps = snapshots(r)
        #expect(snaps.count >= 2)
        let last = try lastSnapshot(r)
        #expect(last["final"] as? Bool == true && last["outcome"] as? String == "ok")
        let m = try manifest(s, try #require(last["id"] as? String))
        let segs = m["segments"] as! [[String: Any]]
        let captured = segs.map { $0["sequence"] as! Int }
        #expect(Set(captured).count == captured.count, "no segment twice")
        #expect(Set(captured) == (try server.published("high")), "captured \(captured)")
        #expect((m["variant"] as? [String: Any])?["chosen"] as? String == server.url("/high/index.m3u8"))
        #expect(segs.contains { $0["discontinuity"] as? String == "yes" })
        #expect(segs.allSatisfy { $0["program_date_time"] != nil })
        // The jump after segment 4 (sequence 4 → 8) left 5–7 unpublished: recorded as a gap.
        let gaps = m["gaps"] as! [[String: Any]]
        #expect(gaps.contains { $0["from"] as? Int == 5 && $0["to"] as? Int == 7 }, "\(gaps)")
        // The chain, recomputed in Python from the manifest alone.
        let script = """
        import sys, json, hashlib
        m = json.load(open(sys.argv[1]))
        items = [(s['epoch'], s['sequence'], 'seg %d %d %s' % (s['epoch'], s['sequence'], s['sha256'])) for s in m['segments']]
        items += [(g['epoch'], g['from'], 'gap %d %d %d' % (g['epoch'], g['from'], g['to'])) for g in m['gaps'] if g['from'] >= 0]
        h = hashlib.sha256(b'sxevidence-live-chain/1').digest()
        for _, _, line in sorted(items, key=lambda x: (x[0], x[1])):
            h = hashlib.sha256(h + line.encode()).digest()
        print(h.hex())
        """
        let py = try s.run(["python3", "-c", script, try s.artifact(try #require(last["id"] as? String), "live-manifest.json")])
        #expect(py.out.trimmingCharacters(in: .whitespacesAndNewlines) == m["chain_head"] as? String)
        // Every part passes warcio and fastwarc; segment bytes in the WARC match the manifest digests.
        for p in m["parts"] as! [[String: Any]] {
            let sha = p["sha256"] as! String
            let path = s.home + "/objects/sha256/\(sha.prefix(2))/\(sha)"
            let (w, f) = try s.checkWARC(path)
            #expect(w.status == 0 && !w.out.contains("digest failed"))
            #expect(f.status == 0)
        }
        #expect(try s.sx(["verify"]).status == 0)
    }

    /// AES-128 segments stay encrypted, the key is archived; byte ranges (206) and EXT-X-MAP; a sequence reset.
    @Test func aesByteRangesAndReset() throws {
        let server = try LiveServer(["--target", "1", "--window", "3", "--endlist", "7", "--aes", "--byterange", "--reset-at", "3"])
        let s = Scratch("aes")
        try s.initNode("330681")
        let r = try live(s, [server.url("/low/index.m3u8"), "--duration", "30s"])
        #expect(r.status == 0, "\(r.err)")
        let m = try manifest(s, try lastID(r))
        let segs = m["segments"] as! [[String: Any]]
        #expect(segs.allSatisfy { ($0["status"] as? Int) == 206 && $0["range"] != nil && $0["key_uri"] != nil })
        let aux = (m["auxiliary"] as! [[String: Any]]).compactMap { $0["uri"] as? String }
        #expect(aux.contains(server.url("/key")) && aux.contains { $0.hasSuffix("init.mp4") })
        // Sequence reset after segment 3: a new epoch, nothing merged with the old one.
        #expect(Set(segs.map { $0["epoch"] as! Int }) == [0, 1])
        #expect((m["gaps"] as! [[String: Any]]).contains { ($0["reason"] as? String ?? "").contains("new epoch") })
        // Encrypted bytes as received: the stored body is not TS (no 0x47 sync byte every 188 bytes).
        let part = (m["parts"] as! [[String: Any]]).last!["sha256"] as! String
        let recs = try s.warcRecords(s.home + "/objects/sha256/\(part.prefix(2))/\(part)").filter { $0["type"] == "response" && $0["uri"]!.hasSuffix("all.ts") }
        #expect(!recs.isEmpty)
        #expect(recs.allSatisfy { hexBytes($0["raw_hex"]!).first != 0x47 })
    }

    @Test func httpFLVCutAtDuration() throws {
        let server = try LiveServer([])
        let s = Scratch("flv")
        try s.initNode("330681")
        let r = try live(s, [server.url("/live.flv"), "--duration", "2s"])
        #expect(r.status == 0, "\(r.err)")
        let id = try lastID(r)
        let m = try manifest(s, id)
        let h = m["flv_header"] as? [String: Any]
        #expect(h?["signature"] as? String == "FLV" && h?["has_video"] as? Int == 1)
        let part = (m["parts"] as! [[String: Any]])[0]["sha256"] as! String
        let path = s.home + "/objects/sha256/\(part.prefix(2))/\(part)"
        let resp = try s.warcRecords(path).first { $0["type"] == "response" }
        #expect(resp?["truncated"] == "time")
        #expect(hexBytes(resp?["raw_hex"] ?? "").count > 20_000)
        let (w, f) = try s.checkWARC(path)
        #expect(w.status == 0 && f.status == 0)
    }

    @Test func faults() throws {
        let s = Scratch("livefault")
        try s.initNode("330681")
        let ok = try LiveServer([])
        // Not a playlist, and a malformed one: exit 65, the observation is still committed.
        for p in ["/notplaylist", "/malformed.m3u8"] {
            let r = try live(s, [ok.url(p), "--duration", "5s"])
            #expect(r.status == 65, "\(p): \(r.err)")
            #expect(snapshots(r).last?["outcome"] as? String == "failed")
        }
        // A stalled stream: stopped after 3 target durations without a new segment, reason recorded.
        let stall = try LiveServer(["--target", "1", "--window", "3", "--stall-after", "2"])
        let r = try live(s, [stall.url("/low/index.m3u8"), "--duration", "60s"])
        #expect(r.status == 75)
        let last = try lastSnapshot(r)
        #expect((last["reason"] as? String ?? "").contains("stalled"))
        #expect(last["segments"] as? Int == 3)
        // 5xx mid-stream: what came before is committed, the failures recorded, the stream ends as stalled.
        let fail = try LiveServer(["--target", "1", "--window", "3", "--fail-after", "3"])
        let f = try live(s, [fail.url("/low/index.m3u8"), "--duration", "60s"])
        #expect(f.status == 75)
        let fm = try manifest(s, try lastID(f))
        #expect(!(fm["segments"] as! [[String: Any]]).isEmpty)
        #expect((fm["gaps"] as! [[String: Any]]).contains { ($0["reason"] as? String ?? "").contains("500") })
        // A key that cannot be fetched: segments kept (encrypted), the failure recorded.
        let nokey = try LiveServer(["--target", "1", "--window", "3", "--endlist", "3", "--aes", "--key-404"])
        let k = try live(s, [nokey.url("/low/index.m3u8"), "--duration", "20s"])
        let km = try manifest(s, try lastID(k))
        #expect((km["gaps"] as! [[String: Any]]).contains { ($0["reason"] as? String ?? "").contains("key") })
        #expect((km["segments"] as! [[String: Any]]).count == 3)
        #expect(try s.sx(["verify"]).status == 0)
    }

    /// SIGTERM cuts an endless HTTP-FLV response at once; a 404 FLV ends at once as not a stream.
    @Test func flvSignalAndFailure() throws {
        let server = try LiveServer([])
        let s = Scratch("flvsig")
        try s.initNode("330681")
        let (stopped, last) = try liveUntilSIGTERM(s, server.url("/live.flv"), duration: "10m", after: 2)
        #expect(stopped < 5)
        #expect((last["reason"] as? String ?? "").contains("signal") && last["segments"] as? Int == 1)
        let t1 = Date()
        let missing = try live(s, [server.url("/nope.flv"), "--duration", "60s"])
        #expect(missing.status == 65)
        #expect(Date().timeIntervalSince(t1) < 10)
        #expect(try s.sx(["verify"]).status == 0)
    }

    /// SIGTERM ends the recording cleanly: what was captured is committed and verifies.
    @Test func sigtermCommits() throws {
        let server = try LiveServer(["--target", "1", "--window", "4"])
        let s = Scratch("livesig")
        try s.initNode("330681")
        let (_, last) = try liveUntilSIGTERM(s, server.url("/low/index.m3u8"), duration: "5m", after: 3)
        #expect(last["final"] as? Bool == true)
        #expect((last["reason"] as? String ?? "").contains("signal"))
        #expect((last["segments"] as? Int ?? 0) >= 2)
        // Every segment a playlist listed to us is accounted for: received, or a gap with its reason.
        let m = try manifest(s, try #require(last["id"] as? String))
        var accounted = Set((m["segments"] as! [[String: Any]]).map { $0["sequence"] as! Int })
        for g in m["gaps"] as! [[String: Any]] where (g["from"] as? Int ?? -1) >= 0 {
            for q in (g["from"] as! Int)...(g["to"] as! Int) { accounted.insert(q) }
        }
        #expect(accounted == (try server.published("low")))
        #expect(try s.sx(["verify"]).status == 0)
    }
}

/// With ffmpeg installed (scripts/setup installs it): a still frame at each snapshot, from AES-128
/// segments decrypted in memory only; and the capture is a superset of what streamlink records.
@Suite(.needs(.venvPython, .cryptography, .curl))
struct LivePeerTests {
    @Test(.needs(.ffmpeg)) func stillFramesFromEncryptedSegments() throws {
        let server = try LiveServer(["--target", "1", "--window", "4", "--endlist", "6", "--video", "--aes"])
        let s = Scratch("frames")
        try s.initNode("330681")
        let r = try s.sx(["live", server.url("/low/index.m3u8"), "--case", "C", "--officer", "A", "--duration", "30s",
                          "--snapshot-every", "2s", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let id = try lastID(r)
        let m = try liveManifest(s, id)
        let frames = (m["still_frames"] as? [[String: Any]] ?? []).filter { $0["name"] != nil }
        #expect(!frames.isEmpty, "\(m["still_frames"] ?? "")")
        // Frames are in the WARC parts as PNG resource records with the listed digest; segments stay encrypted.
        var found = 0
        for p in m["parts"] as! [[String: Any]] {
            let sha = p["sha256"] as! String
            for rec in try s.warcRecords(s.home + "/objects/sha256/\(sha.prefix(2))/\(sha)") where rec["type"] == "resource" {
                let png = hexBytes(rec["raw_hex"]!)
                #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
                let f = s.write("f.png", png)
                let h = String(try s.run(["sha256sum", f]).out.prefix(64))
                #expect(frames.contains { $0["sha256"] as? String == h })
                found += 1
            }
        }
        #expect(found == frames.count)
    }

    /// Over the same window of the same stream, our segments ⊇ streamlink's (read back from the packets
    /// streamlink wrote: each synthetic TS packet carries its segment's number).
    @Test(.needs(.streamlink)) func supersetOfStreamlink() throws {
        let server = try LiveServer(["--target", "1", "--window", "4", "--endlist", "10"])
        let s = Scratch("peer")
        try s.initNode("330681")
        let out = s.dir + "/streamlink.ts"
        let peer = Process()
        peer.executableURL = URL(fileURLWithPath: venvBin + "/streamlink")
        peer.arguments = ["--loglevel", "error", "-o", out, "hls://" + server.url("/low/index.m3u8"), "best"]
        try peer.run()
        let r = try s.sx(["live", server.url("/low/index.m3u8"), "--case", "C", "--officer", "A", "--duration", "40s", "--json"])
        peer.waitUntilExit()
        #expect(r.status == 0)
        let id = try lastID(r)
        let m = try liveManifest(s, id)
        let ours = Set((m["segments"] as! [[String: Any]]).map { $0["sequence"] as! Int })
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
        var theirs: Set<Int> = []
        var i = 0
        while i + 188 <= bytes.count {
            if bytes[i] == 0x47 { theirs.insert(Int(bytes[(i + 1)..<(i + 9)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) })) }
            i += 188
        }
        #expect(!theirs.isEmpty)
        #expect(theirs.isSubset(of: ours), "streamlink had \(theirs.subtracting(ours)) that we did not")
        #expect(ours == (try server.published("low")))
        print("live peer: sxevidence \(ours.count) segments, streamlink \(theirs.count)")
    }
}

/// The store filling up mid-stream: a clear I/O error (74); the snapshots already committed survive
/// and verify. Needs a small tmpfs (root, as in CI).
@Suite struct LiveStoreFullTests {
    @Test(.needs(.tmpfs, .venvPython, .cryptography, .python3)) func storeFillsUp() throws {
        let server = try LiveServer(["--target", "1", "--window", "3", "--size", "1000000", "--aes"])  // encrypted: incompressible
        let s = Scratch("livefull")
        let r = try s.inTmpfs(size: "9m", nodeID: "330681", """
        '\(binary)' live '\(server.url("/low/index.m3u8"))' --home "$H" --case C --officer A --duration 60s --snapshot-every 2s; echo "STATUS=$?"
        echo "ENTRIES=$('\(binary)' log --home "$H" --json | python3 -c 'import sys,json; print(len(json.load(sys.stdin)))')"
        '\(binary)' verify --home "$H" >/dev/null; echo "VERIFY=$?"
        """)
        #expect(r.out.contains("STATUS=74"), "\(r.out) \(r.err)")
        #expect(r.err.contains("No space left on device"), "\(r.err)")
        let entries = Int(r.out.split(separator: "\n").first { $0.hasPrefix("ENTRIES=") }?.dropFirst(8) ?? "") ?? 0
        #expect(entries >= 1, "snapshots committed before the disk filled")
        #expect(r.out.contains("VERIFY=0"))
    }
}

/// Regressions from review: a long window of slow segments is not a stall; a lagging playlist copy
/// is not a restart.
@Suite(.needs(.venvPython)) struct LiveRobustnessTests {
    @Test func slowSegmentsLongWindowNoStall() throws {
        // 30 segments listed at once, each answered after 0.8 s, 4 at a time: fetching them takes ~6 s,
        // twice the 3 target durations after which a stream with no new segment counts as stalled.
        let server = try LiveServer(["--target", "1", "--window", "30", "--backlog", "30", "--segment-delay", "0.8"])
        let s = Scratch("slowwin")
        try s.initNode("330681")
        let r = try s.sx(["live", server.url("/low/index.m3u8"), "--case", "C", "--officer", "A", "--duration", "8s", "--json"])
        let last = try lastSnapshot(r)
        #expect(last["outcome"] as? String == "ok", "\(last)")
        #expect(!((last["reason"] as? String) ?? "").contains("stalled"))
    }

    @Test func stalePlaylistIsNotANewEpoch() throws {
        let server = try LiveServer(["--target", "1", "--window", "4", "--endlist", "8", "--stale-every", "3"])
        let s = Scratch("stale")
        try s.initNode("330681")
        let r = try s.sx(["live", server.url("/low/index.m3u8"), "--case", "C", "--officer", "A", "--duration", "30s", "--json"])
        #expect(r.status == 0)
        let id = try lastID(r)
        let m = try liveManifest(s, id)
        let segs = m["segments"] as! [[String: Any]]
        #expect(Set(segs.map { $0["epoch"] as! Int }) == [0])
        #expect(segs.map { $0["sequence"] as! Int } == Array(0...7))
    }
}
