import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Small objects travel together (sxevidence-consortium(5), OBJECT BUNDLE):
/// `sxevidence-objects/1\n` then, per object, `<sha256 hex> <size>\n<bytes>`.
public enum ObjectBundle {
    public static let header = "sxevidence-objects/1\n"
    public static let smallLimit: Int64 = 1 << 20
    public static let bundleLimit = 16 << 20

    /// Split a bundle into (digest, bytes) pairs; nil when malformed.
    public static func parse(_ data: [UInt8]) -> [(String, ArraySlice<UInt8>)]? {
        let h = Array(header.utf8)
        guard data.starts(with: h) else { return nil }
        var pos = h.count
        var out: [(String, ArraySlice<UInt8>)] = []
        while pos < data.count {
            guard let nl = data[pos...].prefix(100).firstIndex(of: 0x0A) else { return nil }
            let parts = String(decoding: data[pos..<nl], as: UTF8.self).split(separator: " ")
            guard parts.count == 2, Ledger.isDigest(String(parts[0])),
                  let size = Int(parts[1]), size >= 0, size <= data.count - (nl + 1) else { return nil }
            out.append((String(parts[0]), data[(nl + 1)..<(nl + 1 + size)]))
            pos = nl + 1 + size
        }
        return out
    }
}

/// County-side and city-side sync (sxevidence-consortium(5), SYNC).
public final class SyncSession {
    public let home: NodeHome
    public let keys: NodeKeys
    public var batchEntries: Int64 = 5000
    /// Reach the city at this URL instead of the policy's endpoint (a gateway, a tunnel).
    public var cityURL: String?
    public var progress: (String) -> Void = { _ in }

    public init(home: NodeHome, keys: NodeKeys) {
        self.home = home
        self.keys = keys
    }

    public struct PushResult: Sendable {
        public var sent: Int64 = 0
        public var objectsSent = 0
        public var objectBytes: Int64 = 0
        public var size: Int64 = 0
        public var citySize: Int64 = 0
        public var cosigned = false
        public var batches = 0
    }

    func client(_ m: ConsortiumPolicy.Member) throws -> NodeClient {
        guard !m.endpoint.isEmpty else {
            throw EvidenceError(.usage, zh: "策略中节点 \(m.nodeID) 没有服务地址", en: "the policy lists no endpoint for node \(m.nodeID)")
        }
        return try NodeClient(base: m.endpoint, node: home.config.nodeID, peer: m.nodeID, key: keys.ed25519)
    }

    /// The latest checkpoint the city holds for us (size 0 when none).
    func remoteState(_ c: NodeClient, node: String) throws -> (Int64, String?) {
        let r = try c.request(.get, "/v1/replicas/\(node)/checkpoint")
        if r.status == 204 { return (0, nil) }
        guard r.status == 200 else { throw c.failure(r, "副本状态 / replica state") }
        let note = try SignedNote.parse(r.text)
        return (try Checkpoint.parse(text: note.text).size, r.text)
    }

    /// Push everything the city lacks: entry batches, each with its checkpoint (storing the
    /// cosignatures the city returns), then the objects they name (unless `objects` is false).
    public func push(objects: Bool = true) throws -> PushResult {
        let p = try home.requirePolicy()
        guard let city = p.cityMember, city.nodeID != home.config.nodeID else {
            throw EvidenceError(.usage, zh: "本节点就是市级节点；请用 sync --pull", en: "this is the city node; use sync --pull")
        }
        guard p.member(home.config.nodeID) != nil else {
            throw EvidenceError(.denied, zh: "本节点不在联盟策略中", en: "this node is not in the consortium policy")
        }
        let c = try cityURL.map { try NodeClient(base: $0, node: home.config.nodeID, peer: city.nodeID, key: keys.ed25519) } ?? client(city)
        let cos = try city.cosignatureVerifier()
        var res = PushResult()
        var (held, _) = try remoteState(c, node: home.config.nodeID)
        res.citySize = held
        let local = try home.ledger.size()
        guard held <= local else {
            throw EvidenceError(.verification, zh: "市级节点持有 \(held) 条，多于本地的 \(local) 条；本地账本可能丢失，请用 restore",
                                en: "the city holds \(held) entries, more than the \(local) here; this ledger may have been lost: use restore")
        }
        var stale = 0
        while let batch = try home.ledger.batch(old: held, max: batchEntries) {
            progress("\(held)/\(local)")
            let r = try c.request(.post, "/v1/push", body: batch.serialized)
            if r.status == 409, r.contentType.hasPrefix("text/x.tlog.size"), stale < 3 {
                // The city holds a different size than it said a moment ago (a concurrent push): ask again.
                stale += 1
                (held, _) = try remoteState(c, node: home.config.nodeID)
                continue
            }
            if r.status == 409 && r.contentType.hasPrefix("text/x.tlog.size") {
                throw EvidenceError(.unavailable, zh: "市级节点持有的大小一再变化（并发同步？），请稍后重试", en: "the size the city holds kept changing (a concurrent sync?); try again later")
            }
            if r.status == 409 {
                throw EvidenceError(.verification, zh: "市级节点拒绝：本节点账本与其已持有的检查点不一致（分叉），证明已由市级节点保存。\(r.text)",
                                    en: "the city refused the push: this ledger is inconsistent with a checkpoint it holds (fork); it kept the proof. \(r.text)")
            }
            guard r.status == 200 else { throw c.failure(r, "推送 / the push") }
            res.cosigned = try storeCosignature(r.text, checkpointNote: batch.checkpointNote, size: batch.end, verifier: cos, witness: city.origin)
            res.sent += Int64(batch.bodies.count - Int(held - batch.start))
            res.batches += 1
            held = batch.end
        }
        // Up to date. If we lack the city's cosignature on that checkpoint, send the checkpoint alone
        // (an empty batch): the city answers with its cosignature, or refuses it as a fork when its
        // copy of the same size has another root.
        if held > 0, try home.ledger.cosignatureLines(size: held).isEmpty, let cp = try home.ledger.checkpoint(size: held) {
            let empty = EntryBatch(node: home.config.nodeID, start: held, bodies: [], old: held, oldRoot: try home.ledger.root(size: held),
                                   proof: [], checkpointNote: cp.note)
            let r = try c.request(.post, "/v1/push", body: empty.serialized)
            if r.status == 409 && !r.contentType.hasPrefix("text/x.tlog.size") {
                throw EvidenceError(.verification, zh: "市级节点拒绝：本节点账本与其已持有的检查点不一致（分叉），证明已由市级节点保存。\(r.text)",
                                    en: "the city refused this checkpoint: it is inconsistent with the one it holds (fork); it kept the proof. \(r.text)")
            }
            guard r.status == 200 else { throw c.failure(r, "检查点 / the checkpoint") }
            res.cosigned = try storeCosignature(r.text, checkpointNote: cp.note, size: held, verifier: cos, witness: city.origin)
        } else if held > 0 {
            res.cosigned = true
        }
        // Objects go after the entries that name them: the city accepts an object only for an entry of
        // ours it holds, and asks us only about objects we have not delivered ourselves
        // (sxevidence-consortium(5), ACCESS). Every entry's objects are offered, so an upload cut
        // short last time is completed now.
        if objects {
            var from: Int64 = 0
            while from < held {
                let to = min(held, from + batchEntries)
                progress("objects \(from)/\(held)")
                let (n, bytes) = try sendObjects(c, try home.ledger.artifacts(from: from, to: to))
                res.objectsSent += n
                res.objectBytes += bytes
                from = to
            }
        }
        res.size = held
        return res
    }

    /// Returns false when the city sent no cosignature (it does not cosign, or already cosigned a later checkpoint).
    func storeCosignature(_ lines: String, checkpointNote: String, size: Int64, verifier: Cosignature.Verifier, witness: String) throws -> Bool {
        if lines.isEmpty { return false }
        let note = try SignedNote.parse(checkpointNote + lines)
        let check = verifier.check(note.signatures, checkpointText: note.text)
        guard check.ok else {
            throw EvidenceError(.verification, zh: "市级节点返回的联署签名无效", en: "the city's cosignature does not verify")
        }
        let own = note.signatures.filter { $0.name == witness }.map(\.line)
        try home.ledger.storeCosignatures(size: size, witness: witness, lines: own)
        return true
    }

    /// Send the objects the peer lacks: small ones bundled, large ones streamed one by one.
    func sendObjects(_ c: NodeClient, _ artifacts: [Artifact]) throws -> (Int, Int64) {
        var seen = Set<String>()
        let unique = artifacts.filter { seen.insert($0.sha256).inserted }
        guard !unique.isEmpty else { return (0, 0) }
        let r = try c.request(.post, "/v1/objects/missing", body: Array(unique.map(\.sha256).joined(separator: "\n").utf8) + [0x0A])
        guard r.status == 200 else { throw c.failure(r, "对象清单 / the object list") }
        let missing = Set(r.text.split(separator: "\n").map(String.init))
        var sent = 0
        var bytes: Int64 = 0
        var bundle = Array(ObjectBundle.header.utf8)
        var inBundle = 0
        func flush() throws {
            guard inBundle > 0 else { return }
            let r = try c.request(.post, "/v1/objects", body: bundle)
            guard r.status == 200 else { throw c.failure(r, "对象 / the objects") }
            bundle = Array(ObjectBundle.header.utf8)
            inBundle = 0
        }
        for a in unique where missing.contains(a.sha256) {
            let path = home.store.path(forSHA256: a.sha256)
            guard POSIXFile.exists(path) else { continue }   // never held here (or lost): nothing to send
            if a.size <= ObjectBundle.smallLimit {
                bundle += Array("\(a.sha256) \(a.size)\n".utf8) + (try POSIXFile.readAll(path))
                inBundle += 1
                if bundle.count >= ObjectBundle.bundleLimit { try flush() }
            } else {
                let r = try c.request(.put, "/v1/objects/\(a.sha256)", uploadFile: path, uploadSHA256: a.sha256, long: true)
                guard r.status == 200 else { throw c.failure(r, "对象 / object \(a.sha256)") }
            }
            sent += 1
            bytes += a.size
        }
        try flush()
        return (sent, bytes)
    }

    // MARK: pull (city)

    public struct PullResult: Sendable {
        public var node: String
        public var added: Int64 = 0
        public var objects = 0
        public var size: Int64 = 0
        public var error: EvidenceError?
    }

    /// Fetch from one member what this node's replica lacks, verifying as for a push.
    public func pull(_ m: ConsortiumPolicy.Member, into node: ConsortiumNode, objects: Bool = true) throws -> PullResult {
        let c = try client(m)
        var res = PullResult(node: m.nodeID)
        let replica = try node.replica(for: m)
        while true {
            let held = try replica.checkpoint()?.size ?? 0
            res.size = held
            let r = try c.request(.get, "/v1/batch?start=\(held)&max=\(batchEntries)")
            if r.status == 204 { break }
            guard r.status == 200 else { throw c.failure(r, "条目 / entries") }
            let batch = try EntryBatch.parse(r.body)
            if objects { res.objects += try node.fetchObjects(for: batch, from: c, holder: m.nodeID).fetched }
            let got = try node.receive(batch)
            res.added += Int64(got.added)
            res.size = got.size
            progress("\(m.nodeID) \(got.size)")
            if got.added == 0 { break }
        }
        // Anchor what is held even when nothing new came (an earlier run may have stopped in between).
        try node.cosignAndAnchor(member: m, replica: replica)
        return res
    }

}
