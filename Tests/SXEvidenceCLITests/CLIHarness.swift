import Foundation
import Testing

/// The built `sxevidence`: $SXEVIDENCE_BIN, else beside the test bundle, else .build/debug.
let binary: String = {
    if let b = ProcessInfo.processInfo.environment["SXEVIDENCE_BIN"] { return b }
    let beside = Bundle.main.bundleURL.appendingPathComponent("sxevidence").path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    let products = Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent().appendingPathComponent("sxevidence").path }
    return products.first { FileManager.default.isExecutableFile(atPath: $0) } ?? repoRoot.appendingPathComponent(".build/debug/sxevidence").path
}()

struct Result {
    var status: Int32
    var out: String
    var err: String
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(out.utf8)) }
    var lines: [String] { out.split(separator: "\n").map(String.init) }
}

/// A scratch directory with a node home inside, and a runner for the real binary.
final class Scratch {
    let dir: String
    var home: String { dir + "/home" }

    init(_ tag: String) {
        dir = NSTemporaryDirectory() + "sxe-cli-\(tag)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    deinit { removeTree(dir) }

    @discardableResult
    func sx(_ args: [String], env: [String: String] = [:], stdin: String? = nil, withHome: Bool = true) throws -> Result {
        try run([binary] + args + (withHome ? ["--home", home] : []), env: env, stdin: stdin)
    }

    @discardableResult
    func run(_ argv: [String], env: [String: String] = [:], stdin: String? = nil) throws -> Result {
        var e = ProcessInfo.processInfo.environment
        e["LANG"] = "C.UTF-8"
        e.removeValue(forKey: "LC_ALL")
        e.removeValue(forKey: "SXEVIDENCE_HOME")
        for (k, v) in env { e[k] = v }
        let r = try runProcess(argv, env: e, stdin: stdin.map { Data($0.utf8) })
        return Result(status: r.status, out: String(decoding: r.out, as: UTF8.self), err: String(decoding: r.err, as: UTF8.self))
    }

    func initNode(_ id: String = "330603", role: String = "county") throws {
        let r = try sx(["init", "--node-id", id, "--name", "柯桥区市场监管局", "--role", role])
        try #require(r.status == 0, "init failed: \(r.err)")
    }

    /// Run the bash `body` in a private mount namespace, with a tmpfs of `size` mounted at `dir`/mnt and a
    /// node home initialised on it; the body sees the home as $H and the binary as $SX (needs Tool.tmpfs).
    func inTmpfs(size: String, nodeID: String = "330603", _ body: String) throws -> Result {
        try FileManager.default.createDirectory(atPath: dir + "/mnt", withIntermediateDirectories: true)
        let script = """
        set -u
        mount -t tmpfs -o size=\(size) tmpfs '\(dir)/mnt' || exit 99
        H='\(dir)/mnt/home'
        SX='\(binary)'
        "$SX" init --home "$H" --node-id \(nodeID) --name n --role county >/dev/null || exit 98

        """
        return try run(["unshare", "-m", "bash", "-c", script + body])
    }

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = dir + "/" + name
        try? (Data(bytes)).write(to: URL(fileURLWithPath: p))   // not createFile: on Linux it writes through a temporary directory it never removes
        return p
    }

    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    func sqlite(_ sql: String) throws -> Result { try run(["sqlite3", home + "/ledger.db", sql]) }

    /// IDs in the ledger, read back through `log --json` (which must succeed: an empty list is a claim).
    func ledgerIDs(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        let r = try sx(["log", "--json"])
        try #require(r.status == 0, "log --json: \(r.err)", sourceLocation: sourceLocation)
        let entries = try #require(r.json as? [[String: Any]], "log --json is not a JSON array: \(r.out)", sourceLocation: sourceLocation)
        return try entries.map { try #require($0["id"] as? String, "entry without an id: \($0)", sourceLocation: sourceLocation) }
    }
}

/// The first line a server prints on `pipe` (its READY or listening line), or what it printed before
/// it closed the pipe.
func readFirstLine(_ pipe: Pipe) -> String {
    var line = Data()
    while !line.contains(0x0A) {
        let d = pipe.fileHandleForReading.availableData
        if d.isEmpty { break }
        line.append(d)
    }
    return String(decoding: line, as: UTF8.self)
}

func pseudoRandom(_ n: Int, seed: UInt64) -> [UInt8] {
    var x = seed | 1
    return (0..<n).map { _ in
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        return UInt8(truncatingIfNeeded: x)
    }
}
