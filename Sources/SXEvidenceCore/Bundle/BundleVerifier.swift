import Foundation

/// Offline verification of a court bundle (sxevidence-bundle(5), VERIFICATION). Needs no node
/// home; every check is reported with the values it compared.
public struct BundleVerifier {
    public struct Check: Sendable, Codable {
        public var item: String        // evidence ID, or "bundle" (untrusted: escape before display)
        public var name: String
        public var ok: Bool
        public var detail: String      // values compared (untrusted: escape before display)
        /// Passed, but only against something the bundle itself supplied (TSA roots found only in
        /// the bundle): not a failure, and not enough for a VALID verdict.
        public var unconfirmed = false
    }

    /// VALID needs every check passed against trust roots held separately (sxevidence-bundle(5), VERDICT).
    public enum Verdict: String, Sendable, Codable {
        case valid, unconfirmed, invalid
    }

    public struct Report: Sendable, Codable {
        public var checks: [Check] = []
        public var trustRootsConfirmed = false
        public var cityKey = ""
        /// SHA-256 (hex) of the city's raw Ed25519 public key and SM2 point, for comparison with
        /// what the court received.
        public var fingerprints: [String: String] = [:]
        /// Files in the bundle no signature covers (README, certificates): informative only.
        public var informative: [String] = []
        public var items = 0
        public var ok: Bool { !checks.isEmpty && checks.allSatisfy(\.ok) }
        public var verdict: Verdict {
            guard ok else { return .invalid }
            return trustRootsConfirmed && !checks.contains(where: \.unconfirmed) ? .valid : .unconfirmed
        }
    }

    /// Clock difference allowed between a time stamp and the entry and cosignature it is compared with.
    public static let timeTolerance: Double = 300

    public let path: String
    /// The consortium policy the court obtained separately; nil: the bundle's own is used, and said so.
    public var trustedPolicy: String?
    /// TSA roots given separately; nil: the roots in the bundle.
    public var tsaRoots: String?
    public var progress: (String) -> Void = { _ in }

    public init(path: String) { self.path = path }

    public func run() throws -> Report {
        try CryptoSelfTest.require()
        let zip = try ZipReader(path: path)
        var r = Report()
        func check(_ item: String, _ name: String, _ ok: Bool, _ detail: String) { r.checks.append(Check(item: item, name: name, ok: ok, detail: detail)) }

        // 1. The index, and every file it lists.
        guard zip.entries["bundle.json"] != nil else {
            throw EvidenceError(.dataError, zh: "证据包缺少 bundle.json", en: "the bundle has no bundle.json")
        }
        let indexBytes = try zip.checkedBytes("bundle.json", limit: 64 << 20)
        guard let index = try? MiniJSON.parse(indexBytes), index["format"]?.string == BundleExporter.format,
              let items = index["items"]?.array, let files = index["files"]?.array, let policyPath = index["policy"]?.string else {
            throw EvidenceError(.dataError, zh: "bundle.json 缺失或格式不对（应为 \(BundleExporter.format)）", en: "bundle.json is missing or not \(BundleExporter.format)")
        }
        var digests: [String: (size: Int64, sha256: String, sm3: String)] = [:]
        func digest(_ p: String) throws -> (size: Int64, sha256: String, sm3: String) {
            if let d = digests[p] { return d }
            progress(p)
            let d = try zip.digests(p)
            digests[p] = d
            return d
        }
        var listed = Set<String>(["bundle.json"])
        for f in files {
            guard let p = f["path"]?.string, let size = f["size"]?.int, let sha = f["sha256"]?.string, let sm3 = f["sm3"]?.string else {
                check("bundle", "files", false, "malformed file record in bundle.json"); continue
            }
            listed.insert(p)
            guard zip.entries[p] != nil else { check("bundle", "file \(p)", false, "listed in bundle.json but absent"); continue }
            let d = try digest(p)
            check("bundle", "file \(p)", d.size == size && d.sha256 == sha && d.sm3 == sm3,
                  "size \(d.size)/\(size) sha256 \(d.sha256)\(d.sha256 == sha ? "" : " != \(sha)") sm3 \(d.sm3)\(d.sm3 == sm3 ? "" : " != \(sm3)")")
        }
        let unlisted = zip.order.filter { !listed.contains($0) }
        check("bundle", "no unlisted files", unlisted.isEmpty, unlisted.isEmpty ? "\(zip.order.count) files, all listed" : "unlisted: \(unlisted.joined(separator: ", "))")

        // 2. Trust roots: the policy in the bundle, against the one given separately.
        let bundlePolicyText = String(decoding: try zip.checkedBytes(policyPath), as: UTF8.self)
        var bundlePolicy: ConsortiumPolicy?
        do {
            bundlePolicy = try ConsortiumPolicy.verify(bundlePolicyText).0
        } catch let err as EvidenceError {
            check("bundle", "policy signature", false, "\(policyPath): \(err.en)")
        }
        var chosen = bundlePolicy
        if let trustedPolicy {
            let (given, _) = try ConsortiumPolicy.verify(trustedPolicy)
            let same = bundlePolicy != nil && given.cityMember?.ed25519 == bundlePolicy?.cityMember?.ed25519 && given.cityMember?.sm2 == bundlePolicy?.cityMember?.sm2
            check("bundle", "trust roots", same, "city key in bundle \(Base64.encode(bundlePolicy?.cityMember?.ed25519 ?? [])) vs given \(Base64.encode(given.cityMember?.ed25519 ?? []))")
            r.trustRootsConfirmed = same
            chosen = given
        } else if let bp = bundlePolicy {
            check("bundle", "policy signature", true, "consortium policy v\(bp.version) signed by city \(bp.city) (trust roots taken from the bundle itself)")
        }
        r.informative = zip.order.filter { n in
            let base = n.split(separator: "/").last.map(String.init) ?? n
            return base == "README.txt" || base.hasPrefix("certificate.")
        }
        guard let policy = chosen else { return r }   // no trust roots at all: nothing else can be checked
        guard let city = policy.cityMember else { throw EvidenceError(.dataError, zh: "策略缺少市级节点", en: "policy has no city") }
        r.cityKey = (try? Ed25519NoteVerifier(name: city.origin, publicKey: city.ed25519).vkey) ?? ""
        r.fingerprints = ["ed25519": Hex.encode(Hashing.sha256(city.ed25519)), "sm2": Hex.encode(Hashing.sha256(city.sm2))]
        // TSA roots: those given, or the bundle's certificates whose fingerprints the policy held
        // separately names; roots found only in the bundle leave the time check unconfirmed.
        let pinned = Set(trustedPolicy != nil ? policy.tsaRoots : [])
        let cityVerifiers = try city.noteVerifiers()
        // The city anchors: its cosignature is required on every county checkpoint. Other cosigners
        // named by the policy are checked when their lines are present.
        let cityCosigner = try city.cosignatureVerifier()
        let otherCosigners = try policy.cosigners.filter { $0 != city.nodeID }.compactMap { policy.member($0) }.map { try $0.cosignatureVerifier() }

        // 3. Each item.
        for it in items {
            let id = it["id"]?.string ?? "?"
            r.items += 1
            func c(_ name: String, _ ok: Bool, _ detail: String, unconfirmed: Bool = false) {
                r.checks.append(Check(item: id, name: name, ok: ok, detail: detail, unconfirmed: unconfirmed))
            }
            // The ID first, against its documented form, before anything else is read for this item.
            guard Display.isEvidenceID(id) else {
                c("evidence ID", false, "not of the form NNNNNN-NNNNNN (six digits, '-', the entry's index + 1 padded to six)"); continue
            }
            var stage = "entry canonical bytes"
            do {
                guard let entryPath = it["entry"]?.string, let proofPath = it["proof"]?.string, let arts = it["artifacts"]?.array else {
                    c("item record", false, "bundle.json item lacks entry, proof or artifacts"); continue
                }
                // Entry: canonical bytes.
                let body = try zip.checkedBytes(entryPath)
                let leaf = MerkleHasher().leaf(body)
                let e = try Ledger.parseEntry(body, leaf: leaf)
                c("entry canonical bytes", e.recomputedBody == body && e.evidenceID == id,
                  "\(entryPath): \(body.count) bytes, RFC 8785 form \(e.recomputedBody == body ? "==" : "!=") stored, id \(e.evidenceID)")
                guard let member = policy.member(e.node) else { c("node in policy", false, "node \(e.node) is not a member"); continue }
                // Artifacts: the files in the bundle are those the entry names.
                let listedArts = arts.compactMap { a -> (String, String)? in
                    guard let n = a["name"]?.string, let p = a["path"]?.string else { return nil }
                    return (n, p)
                }
                c("artifacts listed", listedArts.count == e.artifacts.count && zip.entries.keys.contains(entryPath),
                  "entry names \(e.artifacts.count), bundle lists \(listedArts.count)")
                for (k, a) in e.artifacts.enumerated() where k < listedArts.count {
                    let (n, p) = listedArts[k]
                    guard zip.entries[p] != nil else { c("artifact \(a.name)", false, "\(p) absent"); continue }
                    let d = try digest(p)
                    c("artifact \(a.name)", n == a.name && d.size == a.size && d.sha256 == a.sha256 && d.sm3 == a.sm3,
                      "size \(d.size)/\(a.size) sha256 \(d.sha256)\(d.sha256 == a.sha256 ? "" : " != \(a.sha256)") sm3 \(d.sm3)\(d.sm3 == a.sm3 ? "" : " != \(a.sm3)")")
                }
                // Inclusion in the county checkpoint, its signatures, the city's cosignature.
                stage = "inclusion proof"
                let proof = try TlogProof.parse(String(decoding: try zip.checkedBytes(proofPath), as: UTF8.self))
                let note = try SignedNote.parse(proof.checkpointNote)
                let cp = try Checkpoint.parse(text: note.text)
                let included = proof.index == e.index && cp.origin == member.origin &&
                    MerkleVerifier.verifyInclusion(leafIndex: proof.index, treeSize: cp.size, leafHash: leaf, proof: proof.hashes, root: cp.root)
                c("inclusion proof", included, "leaf \(Hex.encode(leaf)) index \(proof.index)/\(e.index) in \(cp.origin) size \(cp.size) root \(Hex.encode(cp.root))")
                // The entry is the log's: its node is the node whose origin signs the checkpoint, its
                // index the proof's, its ID that node's and that index's, and the item is that ID.
                let expectedID = LedgerEntry.evidenceID(node: member.nodeID, index: proof.index)
                c("entry identity", e.node == member.nodeID && e.index == proof.index && e.evidenceID == expectedID && id == expectedID,
                  "node \(e.node) (log of \(member.nodeID)), index \(e.index) (proof \(proof.index)), id \(e.evidenceID) (expected \(expectedID)), item \(id)")
                let sigs = note.check(with: try member.noteVerifiers())
                c("checkpoint signatures", sigs.count == 2 && sigs.allSatisfy(\.ok),
                  sigs.map { "\($0.verifier.algorithm) \($0.ok ? "valid" : "INVALID")" }.joined(separator: ", ") + (sigs.count == 2 ? "" : " (Ed25519 and SM2 required)"))
                let ownLog = member.nodeID == city.nodeID
                if ownLog {
                    c("cosignature", true, "not needed: the entry is in the city's own log, which is the anchor")
                } else {
                    let res = cityCosigner.check(note.signatures, checkpointText: note.text)
                    c("cosignature \(cityCosigner.name)", res.ok, "Ed25519 \(res.ed25519 ? "valid" : "INVALID/absent"), SM2 \(res.sm2 ? "valid" : "INVALID/absent")" +
                      (res.time.map { ", time \(UTCTime.format(Date(timeIntervalSince1970: TimeInterval($0))))" } ?? ""))
                }
                // (only lines under a cosigner key ID: a member's own checkpoint lines share its name)
                for v in otherCosigners where note.signatures.contains(where: { $0.name == v.name && ($0.keyID == v.edKeyID || $0.keyID == v.smKeyID) }) {
                    let res = v.check(note.signatures, checkpointText: note.text)
                    c("cosignature \(v.name)", res.ok, "Ed25519 \(res.ed25519 ? "valid" : "INVALID"), SM2 \(res.sm2 ? "valid" : "INVALID")")
                }
                // The city's anchor entry holding this checkpoint, and its inclusion in the city log.
                stage = "anchor entry"
                if ownLog {
                    c("anchor entry", true, "not needed: the city's own checkpoint, signed by the city")
                } else if let anchor = it["anchor"], let aep = anchor["entry"]?.string, let app = anchor["proof"]?.string {
                    let ab = try zip.checkedBytes(aep)
                    let aleaf = MerkleHasher().leaf(ab)
                    let ae = try Ledger.parseEntry(ab, leaf: aleaf)
                    let anchoredNote = try SignedNote.parse(ae.note ?? "")
                    let holds = ae.recomputedBody == ab && ae.entryKind == .anchor && ae.node == city.nodeID && anchoredNote.text == note.text
                    c("anchor entry", holds, "\(ae.evidenceID) kind \(ae.kind), node \(ae.node), holds checkpoint \(cp.origin) size \(cp.size): \(anchoredNote.text == note.text)")
                    stage = "anchor inclusion proof"
                    let ap = try TlogProof.parse(String(decoding: try zip.checkedBytes(app), as: UTF8.self))
                    let anote = try SignedNote.parse(ap.checkpointNote)
                    let acp = try Checkpoint.parse(text: anote.text)
                    let aok = ap.index == ae.index && acp.origin == city.origin && (ap.extra == nil || ap.extra! == ab) &&
                        MerkleVerifier.verifyInclusion(leafIndex: ap.index, treeSize: acp.size, leafHash: aleaf, proof: ap.hashes, root: acp.root)
                    c("anchor inclusion proof", aok, "leaf \(Hex.encode(aleaf)) index \(ap.index) in \(acp.origin) size \(acp.size) root \(Hex.encode(acp.root))")
                    let asigs = anote.check(with: cityVerifiers)
                    c("city checkpoint signatures", asigs.count == 2 && asigs.allSatisfy(\.ok), asigs.map { "\($0.verifier.algorithm) \($0.ok ? "valid" : "INVALID")" }.joined(separator: ", "))
                    c("anchored cosignature \(cityCosigner.name)", cityCosigner.check(anchoredNote.signatures, checkpointText: anchoredNote.text).ok, "in the anchor entry's note")
                } else {
                    c("anchor entry", false, "the item has no anchor")
                }
                // Time stamps over the county checkpoint note as signed (without cosignatures).
                let plain = SignedNote(text: note.text, signatures: note.signatures.filter { $0.name == member.origin }).serialized
                var stampedNote = plain
                stage = "time-stamped checkpoint"
                if let tpp = it["timestamped_proof"]?.string {
                    let tp = try TlogProof.parse(String(decoding: try zip.checkedBytes(tpp), as: UTF8.self))
                    let tn = try SignedNote.parse(tp.checkpointNote)
                    let tcp = try Checkpoint.parse(text: tn.text)
                    let tsigs = tn.check(with: try member.noteVerifiers())
                    let tok = tp.index == e.index && tcp.origin == member.origin && tsigs.count == 2 && tsigs.allSatisfy(\.ok) &&
                        MerkleVerifier.verifyInclusion(leafIndex: tp.index, treeSize: tcp.size, leafHash: leaf, proof: tp.hashes, root: tcp.root)
                    c("time-stamped checkpoint", tok, "inclusion in \(tcp.origin) size \(tcp.size), Ed25519 and SM2 signatures")
                    stampedNote = tp.checkpointNote
                }
                stage = "time stamp"
                let stamps = it["timestamps"]?.array ?? []
                if stamps.isEmpty {
                    c("time stamps", true, ownLog ? "none in this item: its time rests on the city's ledger"
                                                  : "none in this item: its time rests on the ledger and the city's cosignature")
                }
                let cosignTime: Double? = ownLog ? nil : cityCosigner.check(note.signatures, checkpointText: note.text).time.map { Double($0) }
                let entryTime = UTCTime.parse(e.time)
                for t in stamps {
                    guard let tp = t["token"]?.string, let alg = DigestAlgorithm(rawValue: t["algorithm"]?.string ?? "") else {
                        c("time stamp", false, "malformed time-stamp record"); continue
                    }
                    var roots = tsaRoots ?? ""
                    var confirmed = tsaRoots != nil
                    if tsaRoots == nil, let rp = t["tsa_roots"]?.string {
                        let blocks = PEMCertificates.blocks(String(decoding: try zip.checkedBytes(rp), as: UTF8.self))
                        let held = blocks.filter { pinned.contains($0.fingerprint) }
                        confirmed = !held.isEmpty
                        roots = (held.isEmpty ? blocks : held).map(\.pem).joined()
                    }
                    do {
                        let info = try TimeStamp.verify(response: try zip.checkedBytes(tp), digest: Hashing.digest(alg, Array(stampedNote.utf8)),
                                                        algorithm: alg, request: nil, trustedPEM: roots)
                        let g = UTCTime.parse(info.genTime)
                        var problems: [String] = []
                        if let g, let et = entryTime, g < et - Self.timeTolerance { problems.append("genTime is before the entry's time \(e.time)") }
                        if let g, let ct = cosignTime, g > ct + Self.timeTolerance {
                            problems.append("genTime is later than the city's cosignature time \(UTCTime.format(Date(timeIntervalSince1970: ct)))")
                        }
                        if g == nil { problems.append("genTime \(info.genTime) is not an RFC 3339 UTC time") }
                        let detail = "genTime \(info.genTime), serial \(info.serial)" + (info.signer.map { ", TSA \($0)" } ?? "") +
                            (tsaRoots != nil ? " (TSA roots given)" : confirmed ? " (TSA root named in the policy held)" :
                                " (UNCONFIRMED: TSA roots only from the bundle, not named in a policy you hold)")
                        c("time stamp \(alg.rawValue)", problems.isEmpty, problems.isEmpty ? detail : detail + ": " + problems.joined(separator: "; ") +
                          " (tolerance \(Int(Self.timeTolerance)) s)", unconfirmed: !confirmed)
                    } catch let err as EvidenceError {
                        c("time stamp \(alg.rawValue)", false, err.en)
                    }
                }
            } catch let err as EvidenceError {
                c(stage, false, err.en)
            }
        }
        if items.isEmpty { check("bundle", "items", false, "no items") }
        return r
    }
}
