import Foundation
import SXEvidenceCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads lines from a file or standard input without loading it whole.
final class LineReader {
    private let handle: UnsafeMutablePointer<FILE>
    private let owned: Bool

    init(path: String) throws {
        if path == "-" {
            handle = fdopen(0, "r")!
            owned = false
        } else {
            guard let f = fopen(path, "r") else {
                throw EvidenceError(.notFound, zh: "无法打开列表文件：\(path)", en: "cannot open list file: \(path)")
            }
            handle = f
            owned = true
        }
    }

    deinit { if owned { fclose(handle) } }

    func next() throws -> String? {
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        defer { free(line) }
        let n = getline(&line, &cap, handle)
        guard n >= 0, let line else { return nil }
        var s = String(cString: line)
        if s.hasSuffix("\n") { s.removeLast() }
        if s.hasSuffix("\r") { s.removeLast() }
        return s
    }
}
