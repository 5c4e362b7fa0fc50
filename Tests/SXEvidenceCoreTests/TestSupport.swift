import Foundation

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
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16) ?? 0) }
    return out
}

/// Run a program and capture its output; used to check our results with outside tools.
@discardableResult
func runTool(_ args: [String], stdin: Data? = nil) throws -> (status: Int32, out: String, err: String) {
    let r = try runProcess(args, stdin: stdin)
    return (r.status, String(decoding: r.out, as: UTF8.self), String(decoding: r.err, as: UTF8.self))
}
