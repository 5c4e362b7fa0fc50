import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a court bundle (sxevidence-bundle(5)): one ZIP of stored entries holding, per evidence
/// item, the artifacts, the entry's canonical bytes, an inclusion proof to a county checkpoint that
/// carries the city's cosignature, the city's anchor entry with its own inclusion proof, the RFC 3161
/// tokens with their TSA roots, an evidence certificate; and once, the consortium policy and a README.
public final class BundleExporter {
    public static let format = "sxevidence-bundle/1"
    public let home: NodeHome
    public let keys: NodeKeys
    public var cityURL: String?
    public var pdf = true
    public var browser: String?
    public var progress: (String) -> Void = { _ in }

    public init(home: NodeHome, keys: NodeKeys) {
        self.home = home
        self.keys = keys
    }

    public struct Result: Sendable {
        public var items: Int
        public var files: Int
        public var bytes: Int64
        public var pdf: Bool
    }

    struct FileRecord { var path: String; var size: Int64; var sha256: String; var sm3: String }

    /// A file-name component that every ZIP reader accepts: no separators or control characters,
    /// at most 200 bytes of UTF-8 (cut at a character boundary).
    /// A name the bundle's container rules accept (sxevidence-bundle(5), CONTAINER): NFC, no
    /// separators, controls or bidi characters, not ending in a dot or a space, at most 200 bytes.
    static func safeComponent(_ s: String) -> String {
        var out = ""
        for c in s.precomposedStringWithCanonicalMapping.unicodeScalars {
            let r: Character = (Display.needsEscape(c.value) || c == "/" || c == "\\" || c == ":") ? "_" : Character(c)
            if out.utf8.count + String(r).utf8.count > 200 { break }
            out.append(r)
        }
        if let last = out.last, last == "." || last == " " { out.removeLast(); out.append("_") }
        if out.isEmpty || out == "." || out == ".." { out = "_" }
        return out.precomposedStringWithCanonicalMapping
    }

    public func export(ids: [String], to out: String) throws -> Result {
        let policy = try home.requirePolicy()
        let policyText = try POSIXFile.readText(home.policyPath)
        guard let city = policy.cityMember else { throw EvidenceError(.dataError, zh: "策略缺少市级节点", en: "policy has no city") }
        let client = try NodeClient(base: cityURL ?? city.endpoint, node: home.config.nodeID, peer: city.nodeID, key: keys.ed25519)
        let tmp = out + ".part"
        let zip = try ZipWriter(path: tmp)
        var done = false
        defer { if !done { unlink(tmp) } }
        var files: [FileRecord] = []
        func add(_ path: String, _ bytes: [UInt8]) throws {
            try zip.add(name: path, bytes: bytes)
            files.append(FileRecord(path: path, size: Int64(bytes.count), sha256: Hex.encode(Hashing.sha256(bytes)), sm3: Hex.encode(Hashing.sm3(bytes))))
        }
        try add("policy/consortium.policy", Array(policyText.utf8))
        var tsaFiles: [String: String] = [:]   // TSA URL -> path of its trusted roots in the bundle
        var items: [CanonicalValue] = []
        var totalBytes: Int64 = 0
        var madePDF = false
        var seen = Set<String>()
        for id in ids where seen.insert(id).inserted {
            progress(id)
            guard let e = try home.ledger.entry(evidenceID: id) else {
                throw EvidenceError(.notFound, zh: "没有证据编号 \(id)", en: "no evidence ID \(id)")
            }
            let dir = "items/\(Self.safeComponent(id))"
            // The first checkpoint after the entry that the city has cosigned (for the city's own
            // evidence: its first checkpoint after the entry; the city's log is the anchor).
            let ownLog = e.node == city.nodeID
            let chosen = ownLog ? try home.ledger.firstCheckpoint(after: e.index) : try home.ledger.firstCosignedCheckpoint(after: e.index, witness: city.origin)
            guard let size = chosen, let cp = try home.ledger.checkpoint(size: size) else {
                throw EvidenceError(.notFound, zh: "\(id) 所在的检查点尚未经市级节点联署（请先 sxevidence sync）",
                                    en: "\(id) is not yet in a checkpoint cosigned by the city (run sxevidence sync first)")
            }
            try add("\(dir)/entry.json", e.body)
            var arts: [CanonicalValue] = []
            for (pos, a) in e.artifacts.enumerated() {
                let src = home.store.path(forSHA256: a.sha256)
                guard POSIXFile.exists(src) else {
                    throw EvidenceError(.notFound, zh: "\(id) 的文件 \(a.name) 不在本节点的证据库中", en: "\(id): artifact \(a.name) is not in this node's object store")
                }
                let path = "\(dir)/artifacts/\(pos + 1)-\(Self.safeComponent(a.name))"
                try zip.add(name: path, file: src)
                files.append(FileRecord(path: path, size: a.size, sha256: a.sha256, sm3: a.sm3))
                totalBytes += a.size
                arts.append(.object(["name": .string(a.name), "path": .string(path), "size": .int(a.size), "sha256": .string(a.sha256), "sm3": .string(a.sm3)]))
            }
            let proof = TlogProof(index: e.index, hashes: try home.ledger.inclusionProof(index: e.index, size: size),
                                  checkpointNote: try home.ledger.cosignedNote(cp))
            try add("\(dir)/inclusion.tlog-proof", Array(proof.serialized.utf8))
            // Time stamps: on the first stamped checkpoint after the entry (the tightest bound on when it
            // existed); with its own inclusion proof when that is not the cosigned checkpoint.
            var stampSize = size
            var tokens: [TimestampRow] = []
            if let first = try home.ledger.firstStampedCheckpoint(after: e.index) {
                stampSize = first
                tokens = try home.ledger.grantedTimestamps(subject: .checkpoint(size: first))
            }
            // A verifier refuses a genTime later than the city's cosignature plus the tolerance
            // (sxevidence-bundle(5)); such tokens (a stamp retried long after) are left out.
            if !ownLog, let ct = try city.cosignatureVerifier().check(try SignedNote.parse(try home.ledger.cosignedNote(cp)).signatures,
                                                                        checkpointText: try SignedNote.parse(cp.note).text).time {
                tokens = tokens.filter { t in
                    guard let g = t.genTime.flatMap(UTCTime.parse) else { return true }
                    return g <= Double(ct) + BundleVerifier.timeTolerance
                }
            }
            var stamps: [CanonicalValue] = []
            var item: [String: CanonicalValue] = [:]
            if !tokens.isEmpty, stampSize != size, let scp = try home.ledger.checkpoint(size: stampSize) {
                let tp = TlogProof(index: e.index, hashes: try home.ledger.inclusionProof(index: e.index, size: stampSize), checkpointNote: scp.note)
                try add("\(dir)/timestamped.tlog-proof", Array(tp.serialized.utf8))
                item["timestamped_proof"] = .string("\(dir)/timestamped.tlog-proof")
            }
            for (k, t) in tokens.enumerated() {
                guard let tok = t.tokenSHA256 else { continue }
                let path = "\(dir)/timestamps/\(k + 1)-\(t.algorithm).tsr"
                try add(path, try POSIXFile.readAll(home.store.path(forSHA256: tok)))
                if tsaFiles[t.tsaURL] == nil, let tsa = (home.config.tsa ?? []).first(where: { $0.url == t.tsaURL }) {
                    let caPath = tsa.ca.hasPrefix("/") ? tsa.ca : home.path + "/" + tsa.ca
                    let name = "tsa/\(Hex.encode(Hashing.sha256(Array(t.tsaURL.utf8)).prefix(6))).pem"
                    try add(name, try POSIXFile.readAll(caPath))
                    tsaFiles[t.tsaURL] = name
                }
                var o: [String: CanonicalValue] = ["token": .string(path), "algorithm": .string(t.algorithm), "tsa": .string(t.tsaURL),
                                                   "checkpoint_size": .int(stampSize)]
                if let ca = tsaFiles[t.tsaURL] { o["tsa_roots"] = .string(ca) }
                if let g = t.genTime { o["gen_time"] = .string(g) }
                stamps.append(.object(o))
            }
            // The city's anchor entry for that checkpoint, with its inclusion proof in the city log.
            var anchorPair: (LedgerEntry, TlogProof)?
            if !ownLog {
                let r = try client.request(.get, "/v1/anchors/\(home.config.nodeID)?size=\(size)")
                guard r.status == 200 else { throw client.failure(r, "锚定 / the anchor") }
                let anchorProof = try TlogProof.parse(r.text)
                guard let anchorEntry = anchorProof.extra, let ae = try? Ledger.parseEntry(anchorEntry, leaf: MerkleHasher().leaf(anchorEntry)),
                      ae.entryKind == .anchor, let an = ae.note, (try? SignedNote.parse(an).text) == (try SignedNote.parse(cp.note).text) else {
                    throw EvidenceError(.verification, zh: "市级节点返回的锚定条目与检查点 \(size) 不符", en: "the city's anchor entry does not hold checkpoint \(size)")
                }
                try add("\(dir)/anchor/entry.json", anchorEntry)
                try add("\(dir)/anchor/inclusion.tlog-proof", Array(r.text.utf8))
                anchorPair = (ae, anchorProof)
            }
            // The evidence certificate (HTML, and PDF when a browser is installed).
            let cert = try EvidenceCertificate(home: home, entry: e, checkpoint: cp, cosignedNote: try home.ledger.cosignedNote(cp),
                                               anchor: anchorPair, stamps: tokens, stampSize: stampSize,
                                               policy: policy).html()
            try add("\(dir)/certificate.html", Array(cert.utf8))
            item["certificate"] = .string("\(dir)/certificate.html")
            if pdf, let pdfBytes = EvidenceCertificate.renderPDF(html: cert, browser: browser, tmpDir: home.store.tmpDir) {
                try add("\(dir)/certificate.pdf", pdfBytes)
                item["certificate_pdf"] = .string("\(dir)/certificate.pdf")
                madePDF = true
            }
            item["id"] = .string(id)
            item["node"] = .string(e.node)
            item["kind"] = .string(e.kind)
            item["entry"] = .string("\(dir)/entry.json")
            item["artifacts"] = .array(arts)
            item["proof"] = .string("\(dir)/inclusion.tlog-proof")
            item["checkpoint_size"] = .int(size)
            item["timestamps"] = .array(stamps)
            if anchorPair != nil {
                item["anchor"] = .object(["entry": .string("\(dir)/anchor/entry.json"), "proof": .string("\(dir)/anchor/inclusion.tlog-proof"),
                                          "node": .string(city.nodeID)])
            }
            items.append(.object(item))
        }
        try add("README.txt", Array(Self.readme.utf8))
        let index: CanonicalValue = .object([
            "format": .string(Self.format),
            "created": .string(UTCTime.now()),
            "exported_by": .object(["node": .string(home.config.nodeID), "origin": .string(home.config.origin),
                                    "tool": .string("sxevidence \(SXEvidence.version)")]),
            "policy": .string("policy/consortium.policy"),
            "items": .array(items),
            "files": .array(files.map { f in .object(["path": .string(f.path), "size": .int(f.size), "sha256": .string(f.sha256), "sm3": .string(f.sm3)]) }),
        ])
        try zip.add(name: "bundle.json", bytes: index.canonicalBytes)
        try zip.finish()
        guard rename(tmp, out) == 0 else { throw POSIXFile.ioError("rename", out) }
        try POSIXFile.fsyncDirectory(POSIXFile.parent(out))
        done = true
        return Result(items: items.count, files: files.count + 1, bytes: totalBytes, pdf: madePDF)
    }

    static let readme = """
    电子数据证据包 / sxevidence evidence bundle
    ==========================================

    本压缩包由绍兴市场监管电子数据存证系统（sxevidence，市监链）导出，可离线核验，不依赖导出方的任何系统。
    This ZIP was exported by sxevidence (Shaoxing market supervision, consortium ledger). It can be
    verified offline without trusting the exporting bureau's systems.

    核验方法 / How to verify
    1. 用 sxevidence 核验（无需节点目录）/ with sxevidence (no node home needed):
           sxevidence verify BUNDLE.zip --policy 另行取得的联盟策略文件
       --policy 应为法院另行从市级节点取得的联盟策略（信任根）；不给出时，以包内策略为准并提示。
       --policy is the consortium policy the court obtained separately (the trust roots).
    2. 不用 sxevidence / without sxevidence: 按 sxevidence-bundle(5) 手册页，用 Python 标准库与 openssl 命令
       即可复核，例如项目自带的 scripts/verify-bundle.py。 Follow the man page sxevidence-bundle(5);
       the Python standard library and the openssl command suffice (e.g. scripts/verify-bundle.py).

    核验内容 / What is checked
    - bundle.json 列出的每个文件的大小、SHA-256 与 SM3（GB/T 32905）；
      size, SHA-256 and SM3 of every file listed in bundle.json;
    - 账本条目（entry.json，RFC 8785 规范 JSON）记载的每个证据文件的摘要；
      the digests of each evidence file recorded in the ledger entry (canonical JSON);
    - 条目到县级检查点的 RFC 6962 包含证明（C2SP tlog-proof），检查点的 Ed25519 与 SM2（GB/T 32918）签名；
      the RFC 6962 inclusion proof to the county checkpoint and its Ed25519 and SM2 signatures;
    - 市级节点对该检查点的联署（C2SP tlog-cosignature）及市级账本中的锚定条目与其包含证明；
      the city's cosignature on that checkpoint and its anchor entry with an inclusion proof in the city log;
    - RFC 3161 可信时间戳（openssl ts -verify 可复核）。
      the RFC 3161 time-stamp tokens (checkable with openssl ts -verify).

    每项证据另附电子数据存证证书（certificate.html / certificate.pdf），含电子数据提取笔录所需字段。
    Each item also has an evidence certificate (HTML, PDF when rendered) with the extraction-record fields.

    """
}
