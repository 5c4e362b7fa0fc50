import Foundation
import Synchronization
import Hummingbird
import NIOCore
import SXEvidenceCore
#if canImport(Glibc)
import Glibc
#endif

/// The consortium side of the node server (sxevidence-consortium(5), HTTP API). All ledger work runs
/// on one serial queue, so requests apply one at a time, atomically, off the event loops.
public final class ConsortiumService: @unchecked Sendable {
    let node: ConsortiumNode
    let queue = DispatchQueue(label: "sxevidence.consortium")
    /// Nonces seen, in the node home's nonces.db so a restart does not forget them (created on first use, on the queue).
    lazy var nonces: Result<NonceCache, Error> = Result { try NonceCache(path: node.home.path + "/nonces.db") }
    let nodeID: String
    /// Unsigned add-checkpoint calls: a token bucket per peer address (20 a second, bursts of 40); a
    /// flood is answered 429 at once, before it reaches the ledger queue, so signed requests keep their pace.
    let witnessLimit = PeerBuckets(rate: 20, burst: 40)
    public var maxBatchBytes = 256 << 20
    public var maxBundleBytes = 32 << 20
    public var maxObjectBytes: Int64 = 64 << 30

    public init(home: NodeHome, keys: NodeKeys) {
        node = ConsortiumNode(home: home, keys: keys)
        nodeID = home.config.nodeID
        // What a killed predecessor was writing when it died.
        home.store.removeStaleTemporaries()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (ConsortiumNode) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            queue.async {
                self.node.refresh()
                c.resume(with: Result { try self.node.checkFiles(); return try body(self.node) })
            }
        }
    }

    static func text(_ status: HTTPResponse.Status, _ s: String, type: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    static func bytes(_ b: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: b)))
    }

    static func header(_ req: Request, _ name: String) -> String? {
        let lower = name.lowercased()
        return req.headers.first { $0.name.canonicalName == lower }?.value
    }

    /// Check the request signature against the policy before reading the body.
    func authenticate(_ req: Request) async -> Result<ConsortiumPolicy.Member, Refused> {
        let claimed = Self.header(req, "SX-Content-SHA256") ?? ""
        let target = req.uri.string
        let method = req.method.rawValue
        let host = req.head.authority ?? Self.header(req, "Host") ?? ""
        do {
            let r = try await run { node -> Result<ConsortiumPolicy.Member, RequestAuth.Refusal> in
                let p = try node.policy()
                return RequestAuth.check(method: method, target: target, bodySHA256: claimed, header: { Self.header(req, $0) },
                                         policy: p, nonces: try self.nonces.get(), selfNode: self.nodeID, authority: host)
            }
            switch r {
            case .success(let m): return .success(m)
            case .failure(let f):
                FileHandle.standardError.write(Data("sxevidence serve: refused \(method) \(req.uri.path): \(f.text)\n".utf8))
                return .failure(Refused(Self.text(.forbidden, f.text + "\n")))
            }
        } catch {
            return .failure(Refused(Self.text(.internalServerError, "\(error)\n")))
        }
    }

    /// Collect a body up to `limit` and check it against the signed digest.
    func body(_ req: Request, limit: Int) async -> Result<[UInt8], Refused> {
        let buffer: ByteBuffer
        do {
            buffer = try await req.body.collect(upTo: limit)
        } catch {
            return .failure(Refused(Self.text(.contentTooLarge, "request body exceeds \(limit) bytes\n")))
        }
        let b = Array(buffer.readableBytesView)
        guard Hex.encode(Hashing.sha256(b)) == (Self.header(req, "SX-Content-SHA256") ?? "") else {
            return .failure(Refused(Self.text(.badRequest, "request body does not match its signed digest\n")))
        }
        return .success(b)
    }

    /// A refusal by Access.allows (403), logged.
    static func denied(_ m: ConsortiumPolicy.Member, _ what: String) -> Response {
        FileHandle.standardError.write(Data("sxevidence serve: refused \(m.nodeID) access to \(Display.escape(what))\n".utf8))
        return text(.forbidden, "node \(m.nodeID) may not read \(what) (sxevidence-consortium(5), ACCESS)\n")
    }

    static func evidenceStatus(_ e: EvidenceError) -> HTTPResponse.Status {
        switch e.code {
        case .denied: return .forbidden
        case .notFound: return .notFound
        case .dataError, .usage: return .badRequest
        case .verification: return .unprocessableContent
        default: return .internalServerError
        }
    }

    func register(on router: Router<NodeRequestContext>) {
        router.get("v1/policy") { _, _ -> Response in
            let text = try await self.run { node -> String? in
                POSIXFile.exists(node.home.policyPath) ? try POSIXFile.readText(node.home.policyPath) : nil
            }
            guard let text else { return Self.text(.notFound, "no consortium policy\n") }
            return Self.text(.ok, text)
        }
        router.get("v1/checkpoint") { _, _ -> Response in
            let note = try await self.run { node -> String in
                guard let cp = try node.home.ledger.checkpoint() else { return "" }
                return try node.home.ledger.cosignedNote(cp)
            }
            return Self.text(.ok, note)
        }
        router.get("v1/proof/inclusion") { req, _ -> Response in
            guard let i = req.uri.queryParameters.get("index", as: Int64.self), let n = req.uri.queryParameters.get("size", as: Int64.self),
                  i >= 0, i < n else { return Self.text(.badRequest, "index and size required, index < size\n") }
            do {
                let hashes = try await self.run { node -> [[UInt8]] in
                    guard n <= (try node.home.ledger.size()) else { throw EvidenceError(.notFound, zh: "超出日志大小", en: "size beyond the log") }
                    return try node.home.ledger.inclusionProof(index: i, size: n)
                }
                return Self.text(.ok, hashes.map { Base64.encode($0) + "\n" }.joined())
            } catch let e as EvidenceError { return Self.text(Self.evidenceStatus(e), e.en + "\n") }
        }
        router.get("v1/proof/consistency") { req, _ -> Response in
            guard let a = req.uri.queryParameters.get("from", as: Int64.self), let b = req.uri.queryParameters.get("to", as: Int64.self),
                  a > 0, a <= b else { return Self.text(.badRequest, "from and to required, 0 < from <= to\n") }
            do {
                let hashes = try await self.run { node -> [[UInt8]] in
                    guard b <= (try node.home.ledger.size()) else { throw EvidenceError(.notFound, zh: "超出日志大小", en: "size beyond the log") }
                    return try node.home.ledger.consistencyProof(from: a, to: b)
                }
                return Self.text(.ok, hashes.map { Base64.encode($0) + "\n" }.joined())
            } catch let e as EvidenceError { return Self.text(Self.evidenceStatus(e), e.en + "\n") }
        }
        // Our own ledger, for a member (the city pulling).
        router.get("v1/batch") { req, _ -> Response in
            let member: ConsortiumPolicy.Member
            switch await self.authenticate(req) {
            case .failure(let r): return r.response
            case .success(let m): member = m
            }
            guard Access.allows(member, .log(of: self.nodeID)) else { return Self.denied(member, "this log") }
            let start = req.uri.queryParameters.get("start", as: Int64.self) ?? 0
            let max = min(req.uri.queryParameters.get("max", as: Int64.self) ?? 5000, 100_000)
            guard start >= 0, max > 0 else { return Self.text(.badRequest, "bad range\n") }
            let b = try await self.run { node in try node.home.ledger.batch(old: start, max: max)?.serialized }
            guard let b else { return Response(status: .noContent) }
            return Self.bytes(b, type: "application/x.sxevidence-batch")
        }
        router.get("v1/objects/:sha") { req, ctx -> Response in
            let member: ConsortiumPolicy.Member
            switch await self.authenticate(req) {
            case .failure(let r): return r.response
            case .success(let m): member = m
            }
            guard let sha = ctx.parameters.get("sha"), Ledger.isDigest(sha) else { return Self.text(.badRequest, "bad digest\n") }
            // Access.allows: the city, or the member that delivered these bytes itself.
            let allowed = try await self.run { node in try node.mayRead(object: sha, requester: member) }
            guard allowed else { return Self.denied(member, "this object") }
            guard let (fd, size64) = self.node.home.store.openObject(sha256: sha) else { return Self.text(.notFound, "no such object\n") }
            let size = Int(size64)
            let box = FDBox(fd)
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                            body: ResponseBody(contentLength: size) { writer in
                                defer { close(box.fd) }
                                var buf = [UInt8](repeating: 0, count: 1 << 20)
                                while true {
                                    let n = buf.withUnsafeMutableBytes { read(box.fd, $0.baseAddress, $0.count) }
                                    if n <= 0 { break }
                                    try await writer.write(ByteBuffer(bytes: buf[0..<n]))
                                }
                                try await writer.finish(nil)
                            })
        }
        router.post("v1/objects/missing") { req, _ -> Response in
            let member: ConsortiumPolicy.Member
            switch await self.authenticate(req) {
            case .failure(let r): return r.response
            case .success(let m): member = m
            }
            let body: [UInt8]
            switch await self.body(req, limit: 8 << 20) {
            case .failure(let r): return r.response
            case .success(let b): body = b
            }
            let digests = String(decoding: body, as: UTF8.self).split(separator: "\n").map(String.init)
            guard digests.allSatisfy(Ledger.isDigest) else { return Self.text(.badRequest, "bad digest list\n") }
            // Only about the member's own objects: which it has not delivered (not what we hold from others).
            let missing = try await self.run { node in try node.undelivered(digests, by: member.nodeID) }
            return Self.text(.ok, missing.map { $0 + "\n" }.joined())
        }
        router.post("v1/objects") { req, _ -> Response in
            let member: ConsortiumPolicy.Member
            switch await self.authenticate(req) {
            case .failure(let r): return r.response
            case .success(let m): member = m
            }
            let body: [UInt8]
            switch await self.body(req, limit: self.maxBundleBytes) {
            case .failure(let r): return r.response
            case .success(let b): body = b
            }
            guard let items = ObjectBundle.parse(body) else { return Self.text(.badRequest, "malformed object bundle\n") }
            do {
                let n = try await self.run { node -> Int in
                    try node.receiveObjects(items, holder: member.nodeID, entryOf: member)
                    try node.home.store.sync()
                    return items.count
                }
                return Self.text(.ok, "\(n)\n")
            } catch let e as EvidenceError { return Self.text(Self.evidenceStatus(e), e.en + "\n") }
        }
        router.put("v1/objects/:sha") { req, ctx -> Response in
            let member: ConsortiumPolicy.Member
            switch await self.authenticate(req) {
            case .failure(let r): return r.response
            case .success(let m): member = m
            }
            guard let sha = ctx.parameters.get("sha"), Ledger.isDigest(sha),
                  sha == Self.header(req, "SX-Content-SHA256") else { return Self.text(.badRequest, "bad digest\n") }
            let tmp = self.node.temporaryObjectPath()
            let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return Self.text(.internalServerError, "cannot write\n") }
            var total: Int64 = 0
            do {
                defer { close(fd) }
                for try await chunk in req.body {
                    total += Int64(chunk.readableBytes)
                    if total > self.maxObjectBytes { unlink(tmp); return Self.text(.contentTooLarge, "object too large\n") }
                    let ok = chunk.withUnsafeReadableBytes { POSIXFile.writeAll(fd, $0) }
                    if !ok { unlink(tmp); return Self.text(HTTPResponse.Status(code: 507), "cannot store the object\n") }
                }
            } catch {
                unlink(tmp)
                return Self.text(.badRequest, "upload broke off\n")
            }
            do {
                try await self.run { node in
                    try node.receiveObject(tmpPath: tmp, expectedSHA256: sha, holder: member.nodeID, entryOf: member)
                    try node.home.store.sync()
                }
                return Self.text(.ok, "1\n")
            } catch let e as EvidenceError { return Self.text(Self.evidenceStatus(e), e.en + "\n") }
        }
        router.get("v1/replicas/:node/checkpoint") { req, ctx -> Response in
            let member: ConsortiumPolicy.Member
            switch await self.authenticate(req) {
            case .failure(let r): return r.response
            case .success(let m): member = m
            }
            let id = ctx.parameters.get("node") ?? ""
            guard Access.allows(member, .log(of: id)) else { return Self.denied(member, "the log of \(id)") }
            let note = try await self.run { node -> String? in
                guard let m = try node.policy().member(id), node.hasReplica(id) else { return nil }
                return try node.replica(for: m).checkpoint()?.note
            }
            guard let note else { return Response(status: .noContent) }
            return Self.text(.ok, note)
        }
        router.get("v1/replicas/:node/cosignature") { req, ctx -> Response in
            let member: ConsortiumPolicy.Member
            switch await self.authenticate(req) {
            case .failure(let r): return r.response
            case .success(let m): member = m
            }
            let id = ctx.parameters.get("node") ?? ""
            guard Access.allows(member, .log(of: id)) else { return Self.denied(member, "the log of \(id)") }
            guard let size = req.uri.queryParameters.get("size", as: Int64.self) else { return Self.text(.badRequest, "size required\n") }
            let lines = try await self.run { node -> [String]? in
                guard let m = try node.policy().member(id), let row = try node.home.ledger.cosigned(origin: m.origin, size: size) else { return nil }
                let n = try SignedNote.parse(row.note)
                return n.signatures.filter { $0.name == node.home.config.origin }.map(\.line)
            }
            guard let lines else { return Self.text(.notFound, "no cosignature for that size\n") }
            return Self.text(.ok, lines.joined())
        }
        router.get("v1/replicas/:node/batch") { req, ctx -> Response in
            let member: ConsortiumPolicy.Member
            switch await self.authenticate(req) {
            case .failure(let r): return r.response
            case .success(let m): member = m
            }
            let id = ctx.parameters.get("node") ?? ""
            guard Access.allows(member, .log(of: id)) else { return Self.denied(member, "the log of \(id)") }
            let start = req.uri.queryParameters.get("start", as: Int64.self) ?? 0
            let max = min(req.uri.queryParameters.get("max", as: Int64.self) ?? 5000, 100_000)
            guard start >= 0, max > 0 else { return Self.text(.badRequest, "bad range\n") }
            let b = try await self.run { node -> [UInt8]? in
                guard let m = try node.policy().member(id), node.hasReplica(id) else { return nil }
                return try node.replica(for: m).batch(old: start, max: max)?.serialized
            }
            guard let b else { return Response(status: .noContent) }
            return Self.bytes(b, type: "application/x.sxevidence-batch")
        }
        // The anchor entry for a member's cosigned checkpoint, with its inclusion proof in our log
        // (sxevidence-bundle(5) puts both in court bundles).
        router.get("v1/anchors/:node") { req, ctx -> Response in
            let member: ConsortiumPolicy.Member
            switch await self.authenticate(req) {
            case .failure(let r): return r.response
            case .success(let m): member = m
            }
            let id = ctx.parameters.get("node") ?? ""
            guard Access.allows(member, .log(of: id)) else { return Self.denied(member, "the log of \(id)") }
            guard let size = req.uri.queryParameters.get("size", as: Int64.self), size > 0 else { return Self.text(.badRequest, "size required\n") }
            let answer = try await self.run { node -> [UInt8]? in
                guard let m = try node.policy().member(id), let row = try node.home.ledger.cosigned(origin: m.origin, size: size),
                      let idx = row.anchorIndex, let e = try node.home.ledger.entry(index: idx), let cp = try node.home.ledger.checkpoint() else { return nil }
                let proof = TlogProof(index: idx, hashes: try node.home.ledger.inclusionProof(index: idx, size: cp.size), checkpointNote: cp.note, extra: e.body)
                return Array(proof.serialized.utf8)
            }
            guard let answer else { return Self.text(.notFound, "no anchor for that checkpoint\n") }
            return Self.bytes(answer, type: "text/x.tlog-proof")
        }
        router.post("v1/push") { req, _ -> Response in
            let member: ConsortiumPolicy.Member
            switch await self.authenticate(req) {
            case .failure(let r): return r.response
            case .success(let m): member = m
            }
            let body: [UInt8]
            switch await self.body(req, limit: self.maxBatchBytes) {
            case .failure(let r): return r.response
            case .success(let b): body = b
            }
            do {
                let batch = try EntryBatch.parse(body)
                guard batch.node == member.nodeID else { return Self.text(.forbidden, "a node may push only its own log\n") }
                let got = try await self.run { node in try node.receive(batch) }
                return Self.text(.ok, got.cosignature.joined(), type: "text/x.tlog.cosignatures")
            } catch let e as EvidenceError {
                if let s = e.cause(as: StaleOldSize.self) { return Self.text(.conflict, "\(s.held)\n", type: "text/x.tlog.size") }
                if let f = e.cause(as: ForkDetected.self) { return Self.bytes(f.proof.json, type: "application/json").with(status: .conflict) }
                return Self.text(Self.evidenceStatus(e), e.en + "\n")
            }
        }
        router.post("add-checkpoint") { req, ctx -> Response in
            guard self.witnessLimit.take(ctx.peer) else { return Self.text(.tooManyRequests, "too many unsigned requests; try again shortly\n") }
            let buffer: ByteBuffer
            do { buffer = try await req.body.collect(upTo: 64 * 1024) } catch { return Self.text(.contentTooLarge, "too large\n") }
            let body = Array(buffer.readableBytesView)
            let answer = try await self.run { node in node.addCheckpoint(body: body) }
            switch answer {
            case .ok(let lines): return Self.text(.ok, lines.joined())
            case .status(let code, let text, let type): return Self.text(HTTPResponse.Status(code: code), text, type: type)
            }
        }
    }
}

struct Refused: Error {
    let response: Response
    init(_ r: Response) { response = r }
}

final class FDBox: @unchecked Sendable {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
}

extension Response {
    func with(status: HTTPResponse.Status) -> Response {
        var r = self
        r.status = status
        return r
    }
}

/// Token buckets, one per peer: `take(peer)` succeeds while that peer has tokens; they refill at
/// `rate` a second up to `burst`. At most 10,000 peers are tracked; full buckets are dropped first.
final class PeerBuckets: Sendable {
    private let state = Mutex<[String: (tokens: Double, last: Double)]>([:])
    let rate: Double, burst: Double

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    func take(_ peer: String, now: Double = Date().timeIntervalSince1970) -> Bool {
        state.withLock { all in
            if all.count > 10_000 { all = all.filter { min(burst, $0.value.tokens + (now - $0.value.last) * rate) < burst } }
            var b = all[peer] ?? (burst, now)
            b.tokens = min(burst, b.tokens + max(0, now - b.last) * rate)
            b.last = now
            guard b.tokens >= 1 else { all[peer] = b; return false }
            b.tokens -= 1
            all[peer] = b
            return true
        }
    }
}
