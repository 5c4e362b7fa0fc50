// Shared by every test target: Tests/SXEvidenceCoreTests/Support/Tools.swift and
// Tests/SXEvidenceServerTests/Support/Tools.swift are links to this one file.
import Foundation
import Testing

/// Repository root, found from this file's path (Tests/<target>/Support/Tools.swift).
let repoRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// The project venv's bin folder (made by scripts/setup).
let venvBin = repoRoot.appendingPathComponent(".venv/bin").path

// MARK: outside tools

/// An outside program, Python module or capability a test checks our output with. scripts/setup
/// installs every one of them, so a missing one FAILS the test that needs it, with a message naming
/// it; with SX_ALLOW_MISSING_TOOLS=1 in the environment such a test is skipped instead.
enum Tool: String, CaseIterable, Sendable, CustomStringConvertible {
    case python3, openssl, sqlite3, curl, unzip, ffmpeg, chromium
    case venvPython = ".venv/bin/python"
    case warcio = ".venv/bin/warcio"
    case fastwarc = ".venv/bin/fastwarc"
    case wacz = ".venv/bin/wacz"
    case streamlink = ".venv/bin/streamlink"
    case surt = "Python module surt (.venv)"
    case rfc3161Client = "Python module rfc3161_client (.venv)"
    case cryptography = "Python module cryptography (.venv)"
    case tmpfs = "a tmpfs mount in a private mount namespace (root, unshare, mount)"
    case tesseract = "tesseract with Simplified Chinese (tesseract-ocr-chi-sim)"
    case ffprobe

    var description: String { rawValue }

    /// Set SX_ALLOW_MISSING_TOOLS=1 to skip, rather than fail, the tests whose tools are missing.
    static let allowMissing = ProcessInfo.processInfo.environment["SX_ALLOW_MISSING_TOOLS"] == "1"

    var isAvailable: Bool { Self.available[self] ?? false }

    /// Probed once per process.
    static let available: [Tool: Bool] = {
        var out: [Tool: Bool] = [:]
        let modules: [Tool: String] = [.surt: "surt", .rfc3161Client: "rfc3161_client", .cryptography: "cryptography"]
        var present: Set<String> = []
        if FileManager.default.isExecutableFile(atPath: venvBin + "/python") {
            let probe = "import importlib.util\nfor m in ['surt', 'rfc3161_client', 'cryptography']:\n    if importlib.util.find_spec(m): print(m)"
            if let r = try? runProcess([venvBin + "/python", "-c", probe]), r.status == 0 {
                present = Set(String(decoding: r.out, as: UTF8.self).split(separator: "\n").map(String.init))
            }
        }
        for t in Tool.allCases {
            switch t {
            case .python3, .openssl, .sqlite3, .curl, .unzip, .ffmpeg: out[t] = onPath(t.rawValue) != nil
            case .chromium: out[t] = onPath("chromium") != nil || onPath("chromium-browser") != nil
            case .venvPython, .warcio, .fastwarc, .wacz, .streamlink: out[t] = FileManager.default.isExecutableFile(atPath: repoRoot.path + "/" + t.rawValue)
            case .surt, .rfc3161Client, .cryptography: out[t] = present.contains(modules[t]!)
            case .tmpfs: out[t] = canMountTmpfs()
            case .ffprobe: out[t] = onPath("ffprobe") != nil
            case .tesseract:
                out[t] = onPath("tesseract") != nil
                    && ((try? runProcess(["tesseract", "--list-langs"])).map { String(decoding: $0.out, as: UTF8.self).contains("chi_sim") } ?? false)
            }
        }
        return out
    }()

    static func onPath(_ name: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func canMountTmpfs() -> Bool {
        guard getuid() == 0, onPath("unshare") != nil else { return false }
        let d = NSTemporaryDirectory() + "sxe-mountprobe-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: d) }
        return (try? runProcess(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs '\(d)'"]))?.status == 0
    }

    static func message(_ missing: [Tool]) -> String {
        "needs \(missing.map(\.description).joined(separator: ", ")), not found: run scripts/setup "
            + "(or set SX_ALLOW_MISSING_TOOLS=1 to skip such tests)"
    }

    /// For a part of a test that needs `tool`: true when it is there; when it is not, records a failure
    /// (or, with SX_ALLOW_MISSING_TOOLS=1, nothing) and returns false.
    static func check(_ tools: Tool..., sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let missing = tools.filter { !$0.isAvailable }
        if missing.isEmpty { return true }
        if !allowMissing { Issue.record(Comment(rawValue: message(missing)), sourceLocation: sourceLocation) }
        return false
    }
}

struct MissingTool: Error, CustomStringConvertible {
    let description: String
}

/// `@Test(.needs(.openssl, .python3))` or `@Suite(.needs(...))`: checked before the test runs.
struct NeedsTools: TestTrait, SuiteTrait {
    let tools: [Tool]

    func prepare(for test: Test) async throws {
        let missing = tools.filter { !$0.isAvailable }
        guard !missing.isEmpty else { return }
        if Tool.allowMissing {
            try await ConditionTrait.enabled(if: false, Comment(rawValue: Tool.message(missing))).prepare(for: test)
        }
        throw MissingTool(description: Tool.message(missing))
    }
}

extension Trait where Self == NeedsTools {
    static func needs(_ tools: Tool...) -> Self { NeedsTools(tools: tools) }
}

// MARK: processes

/// Run `argv` through /usr/bin/env (so PATH finds the program), feeding `stdin`; both output pipes
/// are read at once, so a large output on either cannot block the child.
func runProcess(_ argv: [String], env: [String: String]? = nil, stdin: Data? = nil) throws -> (status: Int32, out: Data, err: Data) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = argv
    if let env { p.environment = env }
    let o = Pipe(), e = Pipe(), i = Pipe()
    p.standardOutput = o
    p.standardError = e
    p.standardInput = i
    try p.run()
    if let stdin { i.fileHandleForWriting.write(stdin) }
    try i.fileHandleForWriting.close()
    nonisolated(unsafe) var errData = Data()
    let t = Thread { errData = e.fileHandleForReading.readDataToEndOfFile() }
    t.start()
    let outData = o.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !t.isFinished { usleep(1000) }
    return (p.terminationStatus, outData, errData)
}

// MARK: temporary folders

/// The folders made by `tempDir` during one test, removed when the test ends (passed or failed).
/// Tests of a suite marked `.temporaryFolders` get one each; a test outside such a suite gets its
/// folders removed when the test process exits.
final class TemporaryFolders: @unchecked Sendable {
    private let lock = NSLock()
    private var paths: [String] = []

    func add(_ p: String) { lock.withLock { paths.append(p) } }

    func removeAll() {
        let all = lock.withLock { defer { paths.removeAll() }; return paths }
        for p in all { removeTree(p) }
    }

    @TaskLocal static var current: TemporaryFolders?
    static let atExit: TemporaryFolders = {
        atexit { TemporaryFolders.atExit.removeAll() }
        return TemporaryFolders()
    }()
}

/// Remove a folder, also when a test left parts of it read-only.
func removeTree(_ p: String) {
    if (try? FileManager.default.removeItem(atPath: p)) == nil, FileManager.default.fileExists(atPath: p) {
        _ = try? runProcess(["sh", "-c", "chmod -R u+w \"$0\" 2>/dev/null; rm -rf \"$0\"", p])
    }
}

/// A new folder under $TMPDIR, removed when the current test ends (see `TemporaryFolders`).
func tempDir(_ tag: String) -> String {
    let d = NSTemporaryDirectory() + "sxe-\(tag)-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    (TemporaryFolders.current ?? TemporaryFolders.atExit).add(d)
    return d
}

/// `@Suite(.temporaryFolders)`: each test's `tempDir` folders are removed when it ends.
struct TemporaryFoldersTrait: TestTrait, SuiteTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let folders = TemporaryFolders()
        defer { folders.removeAll() }
        try await TemporaryFolders.$current.withValue(folders) { try await function() }
    }
}

extension Trait where Self == TemporaryFoldersTrait {
    static var temporaryFolders: Self { TemporaryFoldersTrait() }
}
