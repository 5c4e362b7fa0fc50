import Foundation

/// Repository root, found from this file's path.
let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The public RFC 6962 vectors: the shared copy beside the repository when present, else the copy in fixtures/.
let merkleVectors: URL = {
    let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/vectors/merkle")
    if FileManager.default.fileExists(atPath: shared.appendingPathComponent("testdata").path) { return shared }
    return repoRoot.appendingPathComponent("fixtures/vectors/merkle")
}()

func b64(_ s: String) -> [UInt8] { [UInt8](Data(base64Encoded: s) ?? Data()) }

func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}

/// Run a program and capture its output; used to check our results with outside tools.
@discardableResult
func runTool(_ args: [String], stdin: Data? = nil) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    let o = Pipe(), e = Pipe(), i = Pipe()
    p.standardOutput = o
    p.standardError = e
    p.standardInput = i
    try p.run()
    if let stdin { i.fileHandleForWriting.write(stdin) }
    try i.fileHandleForWriting.close()
    let od = o.fileHandleForReading.readDataToEndOfFile()
    let ed = e.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: od, as: UTF8.self), String(decoding: ed, as: UTF8.self))
}

func tempDir(_ tag: String) -> String {
    let d = NSTemporaryDirectory() + "sxe-\(tag)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}
