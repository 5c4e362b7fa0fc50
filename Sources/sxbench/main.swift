// Measurements for scripts/bench that need to run in-process (no process start-up in the figure).
//   sxbench fill HOME COUNT    append COUNT entries through the ledger API, one signed checkpoint per 10,000
//   sxbench proofs HOME COUNT  time COUNT inclusion proofs at random indexes against the latest checkpoint
import Foundation
import SXEvidenceCore

//   sxbench tsa HOME COUNT     COUNT tokens from the node's TSA in-process (ECDSA signing, no HTTP)
//   sxbench tsa-http URL COUNT COUNT RFC 3161 requests POSTed over HTTP, 8 at a time (ok = 200 answers)
let args = CommandLine.arguments
guard args.count == 4, let count = Int(args[3]) else {
    FileHandle.standardError.write(Data("usage: sxbench fill|proofs|tsa HOME COUNT | sxbench tsa-http URL COUNT\n".utf8))
    exit(64)
}
if args[1] == "tsa-http" {
    let digest = Hashing.sha256(Array("bench".utf8))
    var reqs: [TimeStamp.Request] = []
    for _ in 0..<count { reqs.append(try TimeStamp.makeRequest(digest: digest)) }
    let t0 = Date()
    let tokens = try TSAHTTPBench.post(reqs.map(\.der), url: args[2], concurrency: 8)
    let wall = Date().timeIntervalSince(t0)
    let ok = tokens.filter { !$0.isEmpty }.count
    print(String(format: "tokens=%d ok=%d wall=%.3f tokens_per_s=%.0f", count, ok, wall, Double(ok) / wall))
    exit(0)
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
            EntryDraft(kind: .file, caseID: "BENCH-\((done + i) % 97)", officer: "B01", method: Registrar.method,
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
case "tsa":
    let tsa = try TimeStampAuthority(chainPEM: try POSIXFile.readText(home.path + "/tsa/tsa.pem"),
                                     keyPEM: try POSIXFile.readText(home.path + "/tsa/tsa.key"), policy: "2.25.1")
    let req = try TimeStamp.makeRequest(digest: Hashing.sha256([1]))
    let t0 = Date()
    for _ in 0..<count { _ = try tsa.respond(req.der) }
    let wall = Date().timeIntervalSince(t0)
    print(String(format: "tokens=%d wall=%.3f tokens_per_s=%.0f", count, wall, Double(count) / wall))
default:
    exit(64)
}
