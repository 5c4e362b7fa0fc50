import Dispatch
import Foundation

/// Registers local files as evidence (`sxevidence add`): each file streamed once through SHA-256
/// and SM3 into the object store, then one ledger entry per file and a signed checkpoint, all durable
/// before anything is reported. Long lists are committed in batches, so an interruption loses at most
/// the batch that was not yet reported.
public struct Registrar {
    public let home: NodeHome
    public let keys: NodeKeys
    public var batchSize = 2000
    public var batchSeconds = 2.0

    public init(home: NodeHome, keys: NodeKeys) {
        self.home = home
        self.keys = keys
    }

    public static let method = "sxevidence add: local file registered as received (SHA-256 + SM3, GB/T 32905)"

    /// `next()` yields file paths until nil. `committed` is called after each durable batch.
    public func register(files next: () throws -> String?, caseID: String, officer: String, note: String?,
                         progress: (Int) -> Void = { _ in },
                         committed: ([LedgerEntry], Ledger.StoredCheckpoint) throws -> Void) throws {
        home.store.removeStaleTemporaries()
        var pending: [EntryDraft] = []
        var started = Date()
        var done = 0
        func flush() throws {
            guard !pending.isEmpty else { return }
            try home.store.sync()
            let (entries, cp) = try home.ledger.append(pending, sign: keys.sign)
            pending.removeAll(keepingCapacity: true)
            try committed(entries, cp)
            started = Date()
        }
        // Files are hashed and stored a window at a time on all cores (creating files is most of the
        // cost for small ones); entries are appended in the order the paths were given.
        let window = 64
        var exhausted = false
        while !exhausted {
            var paths: [String] = []
            var readError: Error?
            do {
                while paths.count < window, let p = try next() { paths.append(p) }
            } catch {
                readError = error
            }
            exhausted = paths.count < window
            var results = [Result<Artifact, Error>?](repeating: nil, count: paths.count)
            let store = home.store
            let batchPaths = paths
            results.withUnsafeMutableBufferPointer { slots in
                let box = UncheckedBox(slots)
                DispatchQueue.concurrentPerform(iterations: batchPaths.count) { i in
                    let path = batchPaths[i]
                    box.value[i] = Result { try store.ingest(path: path, name: (path as NSString).lastPathComponent) }
                }
            }
            for r in results {
                switch r! {
                case .success(let artifact):
                    pending.append(EntryDraft(kind: .file, caseID: caseID, officer: officer, method: Self.method,
                                              note: note, artifacts: [artifact]))
                    done += 1
                    progress(done)
                case .failure(let error):
                    // Commit (and so report) what came before the bad item, then stop on it.
                    try flush()
                    throw error
                }
            }
            if let readError {
                try flush()
                throw readError
            }
            if pending.count >= batchSize || Date().timeIntervalSince(started) >= batchSeconds { try flush() }
        }
        try flush()
    }

    /// Checks made before any file is read, so that bad arguments write nothing.
    public static func validate(caseID: String, officer: String) throws {
        for (field, v) in [("--case", caseID), ("--officer", officer)] {
            if v.trimmingCharacters(in: .whitespaces).isEmpty {
                throw EvidenceError(.usage, zh: "\(field) 不能为空", en: "\(field) must not be empty")
            }
            if v.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw EvidenceError(.usage, zh: "\(field) 不能含换行或控制字符", en: "\(field) must not contain line breaks or control characters")
            }
        }
    }
}
