import Foundation
import Synchronization
import Hummingbird
import NIOCore
import SXEvidenceCore

/// The consortium side of the node server (sxevidence-consortium(5), HTTP API). All ledger work runs
/// on one serial queue, so requests apply one at a time, atomically, off the event loops; the node
/// and its nonce store live in a `Mutex` only that queue takes. Routes are in `ConsortiumRoutes.swift`.
public final class ConsortiumService: Sendable {
    /// Request size limits (immutable once the service is made).
    public struct Limits: Sendable {
        public var batchBytes = 256 << 20
        public var bundleBytes = 32 << 20
        public var objectBytes: Int64 = 64 << 30
        /// Unsigned add-checkpoint calls per peer address: a token bucket of this rate (per second) and burst.
        public var witnessRate: Double = 20
        public var witnessBurst: Double = 40
        public init() {}
    }

    struct State {
        let node: ConsortiumNode
        /// Nonces seen, in the node home's nonces.db so a restart does not forget them (opened on first use).
        var nonces: NonceCache?
    }

    let state: Mutex<State>
    let queue = DispatchQueue(label: "sxevidence.consortium")
    let nodeID: String
    let noncesPath: String
    let limits: Limits
    /// Unsigned add-checkpoint calls: a token bucket per peer address (by default 20 a second, bursts
    /// of 40); a flood is answered 429 at once, before it reaches the ledger queue, so signed requests keep their pace.
    let witnessLimit: PeerBuckets

    /// Opens its own node home and keys at `homePath` (its own database connections, used only on
    /// the service queue), so nothing it holds is shared with the caller.
    public init(homePath: String, limits: Limits = Limits()) throws {
        let home = try NodeHome.open(homePath)
        let keys = try home.loadKeys()
        nodeID = home.config.nodeID
        noncesPath = home.path + "/nonces.db"
        self.limits = limits
        witnessLimit = PeerBuckets(rate: limits.witnessRate, burst: limits.witnessBurst)
        // What a killed predecessor was writing when it died.
        home.store.removeStaleTemporaries()
        state = Mutex(State(node: ConsortiumNode(home: home, keys: keys), nonces: nil))
    }

    /// Run ledger work on the service queue, with the node's files checked first.
    func run<T: Sendable>(_ body: @escaping @Sendable (ConsortiumNode) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            queue.async {
                let r = self.state.withLock { s in
                    s.node.refresh()
                    return Result { try s.node.checkFiles(); return try body(s.node) }
                }
                c.resume(with: r)
            }
        }
    }

    static func header(_ req: Request, _ name: String) -> String? { header(req.headers, name) }

    static func header(_ headers: HTTPFields, _ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.canonicalName == lower }?.value
    }

    /// Check the request signature against the policy before reading the body; the member it came from.
    func authenticate(_ req: Request) async throws -> ConsortiumPolicy.Member {
        let claimed = Self.header(req, "SX-Content-SHA256") ?? ""
        let target = req.uri.string
        let method = req.method.rawValue
        let host = req.head.authority ?? Self.header(req, "Host") ?? ""
        let headers = req.headers
        let header: @Sendable (String) -> String? = { Self.header(headers, $0) }
        let selfNode = nodeID, path = noncesPath
        let r = try await withCheckedThrowingContinuation { (c: CheckedContinuation<Result<ConsortiumPolicy.Member, RequestAuth.Refusal>, Error>) in
            queue.async {
                c.resume(with: Result {
                    try self.state.withLock { s in
                        if s.nonces == nil { s.nonces = try NonceCache(path: path) }
                        return RequestAuth.check(method: method, target: target, bodySHA256: claimed, header: header,
                                                 policy: try s.node.policy(), nonces: s.nonces!, selfNode: selfNode, authority: host)
                    }
                })
            }
        }
        switch r {
        case .success(let m): return m
        case .failure(let f):
            throw EvidenceError(.denied, zh: "请求未通过认证：\(f.text)", en: f.text, cause: f)
        }
    }

    /// Collect a body up to `limit` and check it against the signed digest.
    func signedBody(_ req: Request, limit: Int) async throws -> [UInt8] {
        let buffer: ByteBuffer
        do {
            buffer = try await req.body.collect(upTo: limit)
        } catch {
            throw RequestRefusal(.contentTooLarge, "request body exceeds \(limit) bytes")
        }
        let b = Array(buffer.readableBytesView)
        guard Hex.encode(Hashing.sha256(b)) == (Self.header(req, "SX-Content-SHA256") ?? "") else {
            throw RequestRefusal(.badRequest, "request body does not match its signed digest")
        }
        return b
    }

    /// Refused by Access.allows (403, logged).
    static func denied(_ m: ConsortiumPolicy.Member, _ what: String) -> EvidenceError {
        EvidenceError(.denied, zh: "节点 \(m.nodeID) 无权读取\(what)（sxevidence-consortium(5)，ACCESS）",
                      en: "node \(m.nodeID) may not read \(what) (sxevidence-consortium(5), ACCESS)")
    }

    /// An access check by the one rule; throws the refusal.
    static func require(_ m: ConsortiumPolicy.Member, _ r: Access.Resource, _ what: String) throws {
        guard Access.allows(m, r) else { throw denied(m, what) }
    }
}
