// Measurements for scripts/bench that need to run in-process (no process start-up in the figure).
//   sxbench fill HOME COUNT    append COUNT entries through the ledger API, one signed checkpoint per 10,000
//   sxbench proofs HOME COUNT  time COUNT inclusion proofs at random indexes against the latest checkpoint
import Foundation
import SXEvidenceCore

let args = CommandLine.arguments
guard args.count == 4, let count = Int(args[3]) else {
    FileHandle.standardError.write(Data("usage: sxbench fill|proofs HOME COUNT\n".utf8))
    exit(64)
}
let home = try NodeHome.open(args[2])

switch args[1] {
case "fill":
    let keys = try home.loadKeys()
    // All entries refer to one real object so that `verify` can still re-hash it.
    let blob = home.path + "/../bench-blob.txt"
    try Data("bench evidence\n".utf8).write(to: URL(fileURLWithPath: blob))
    let a = try home.store.ingest(path: blob, name: "bench-blob.txt")
    try home.store.sync()
    var done = 0
    let t0 = Date()
    while done < count {
        let n = min(10_000, count - done)
        let drafts = (0..<n).map { i in
            EntryDraft(kind: "file", caseID: "BENCH-\((done + i) % 97)", officer: "B01", method: Registrar.method,
                       note: nil, artifacts: [Artifact(name: "item-\(done + i).txt", size: a.size, sha256: a.sha256, sm3: a.sm3)])
        }
        try home.ledger.append(drafts, sign: keys.sign)
        done += n
    }
    print(String(format: "filled %d entries in %.2f s", count, Date().timeIntervalSince(t0)))
case "proofs":
    guard let cp = try home.ledger.checkpoint(), cp.size > 0 else { exit(66) }
    var rng = SystemRandomNumberGenerator()
    var times: [Double] = []
    var bad = 0
    for _ in 0..<count {
        let i = Int64.random(in: 0..<cp.size, using: &rng)
        let t = DispatchTime.now().uptimeNanoseconds
        let p = try home.ledger.inclusionProof(index: i, size: cp.size)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1000)
        guard let e = try home.ledger.entry(index: i),
              MerkleVerifier.verifyInclusion(leafIndex: i, treeSize: cp.size, leafHash: e.leafHash, proof: p, root: cp.root)
        else { bad += 1; continue }
    }
    times.sort()
    let mean = times.reduce(0, +) / Double(times.count)
    print(String(format: "proofs=%d size=%lld mean_us=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f invalid=%d",
                 count, cp.size, mean, times[times.count / 2], times[times.count * 99 / 100], times.last!, bad))
default:
    exit(64)
}
