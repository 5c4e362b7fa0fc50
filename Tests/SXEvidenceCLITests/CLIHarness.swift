import Foundation

let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

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

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    @discardableResult
    func sx(_ args: [String], env: [String: String] = [:], stdin: String? = nil, withHome: Bool = true) throws -> Result {
        try run([binary] + args + (withHome ? ["--home", home] : []), env: env, stdin: stdin)
    }

    @discardableResult
    func run(_ argv: [String], env: [String: String] = [:], stdin: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        var e = ProcessInfo.processInfo.environment
        e["LANG"] = "C.UTF-8"
        e.removeValue(forKey: "LC_ALL")
        e.removeValue(forKey: "SXEVIDENCE_HOME")
        for (k, v) in env { e[k] = v }
        p.environment = e
        let o = Pipe(), er = Pipe(), i = Pipe()
        p.standardOutput = o
        p.standardError = er
        p.standardInput = i
        try p.run()
        if let stdin { i.fileHandleForWriting.write(Data(stdin.utf8)) }
        try i.fileHandleForWriting.close()
        // Read both pipes concurrently so a large output cannot block the child.
        nonisolated(unsafe) var errData = Data()
        let t = Thread { errData = er.fileHandleForReading.readDataToEndOfFile() }
        t.start()
        let outData = o.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !t.isFinished { usleep(1000) }
        return Result(status: p.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self))
    }

    func initNode(_ id: String = "330603", role: String = "county") throws {
        let r = try sx(["init", "--node-id", id, "--name", "柯桥区市场监管局", "--role", role])
        precondition(r.status == 0, "init failed: \(r.err)")
    }

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = dir + "/" + name
        try? (Data(bytes)).write(to: URL(fileURLWithPath: p))   // not createFile: on Linux it writes through a temporary directory it never removes
        return p
    }

    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    func sqlite(_ sql: String) throws -> Result { try run(["sqlite3", home + "/ledger.db", sql]) }

    /// IDs in the ledger, read back through `log --json`.
    func ledgerIDs() throws -> [String] {
        let r = try sx(["log", "--json"])
        return ((r.json as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
    }
}

func pseudoRandom(_ n: Int, seed: UInt64) -> [UInt8] {
    var x = seed | 1
    return (0..<n).map { _ in
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        return UInt8(truncatingIfNeeded: x)
    }
}
