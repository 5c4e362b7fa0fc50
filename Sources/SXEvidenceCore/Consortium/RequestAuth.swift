import Foundation
import Synchronization

/// Signed node-to-node requests (sxevidence-consortium(5), AUTHENTICATION). The sender signs
///
///     sxevidence-request/2\n METHOD\n PATH?QUERY\n hex(SHA-256(body))\n FROM-NODE\n TO-NODE\n AUTHORITY\n TIME\n NONCE\n
///
/// with its Ed25519 node key and sends it in five headers (SX-Node, SX-To, SX-Time, SX-Nonce,
/// SX-Signature). TO-NODE is the node the request is for and AUTHORITY the host[:port] the client
/// connected to (its Host header), so a request signed for one server is refused by every other.
/// The receiver looks the node up in the policy, checks the signature, that TO-NODE is itself and
/// AUTHORITY its Host header, that TIME is within `maxSkew` of its clock, and that the nonce was not
/// seen in that window (NonceCache, persistent in the node home's nonces.db).
public enum RequestAuth {
    public static let version = "sxevidence-request/2"
    public static let nodeHeader = "SX-Node"
    public static let toHeader = "SX-To"
    public static let timeHeader = "SX-Time"
    public static let nonceHeader = "SX-Nonce"
    public static let signatureHeader = "SX-Signature"
    public static let maxSkew: Int64 = 300
    /// Largest SX-Time accepted (2^40 s, about year 36812); larger or negative times are stale.
    public static let maxTime: Int64 = 1 << 40

    public static func message(method: String, target: String, bodySHA256: String, node: String, to: String, authority: String,
                               time: Int64, nonce: String) -> [UInt8] {
        Array("\(version)\n\(method)\n\(target)\n\(bodySHA256)\n\(node)\n\(to)\n\(authority)\n\(time)\n\(nonce)\n".utf8)
    }

    /// The five header values for a request to node `to` at `authority` (host[:port] as sent in Host).
    public static func sign(method: String, target: String, bodySHA256: String, node: String, to: String, authority: String,
                            key: Ed25519Key, now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> [(String, String)] {
        var r = [UInt8](repeating: 0, count: 16)
        for i in r.indices { r[i] = UInt8.random(in: 0...255) }
        let nonce = Hex.encode(r)
        let sig = try key.sign(message(method: method, target: target, bodySHA256: bodySHA256, node: node, to: to, authority: authority,
                                       time: now, nonce: nonce))
        return [(nodeHeader, node), (toHeader, to), (timeHeader, String(now)), (nonceHeader, nonce), (signatureHeader, Base64.encode(sig))]
    }

    public enum Refusal: Error, Sendable, Equatable {
        case missing, oldVersion, unknownNode(String), badSignature, stale(Int64), replayed
        case wrongNode(String), store(String)
        public var text: String {
            switch self {
            case .missing: return "request is not signed"
            case .oldVersion: return "request is signed as sxevidence-request/1 (no SX-To header); sxevidence-request/2 is required"
            case .unknownNode(let n): return "node \(n) is not a member of the consortium"
            case .badSignature: return "request signature does not verify"
            case .stale(let d): return "request time is \(d) s away from the server clock"
            case .replayed: return "request nonce was already used"
            case .wrongNode(let n): return "request is addressed to node \(n), not to this node"
            case .store(let e): return "nonce store failed: \(e)"
            }
        }
    }

    /// Check a request addressed to `selfNode`, received with Host header `authority`; returns the
    /// member it came from.
    public static func check(method: String, target: String, bodySHA256: String, header: (String) -> String?,
                             policy: ConsortiumPolicy, nonces: NonceCache, selfNode: String, authority: String,
                             now: Int64 = Int64(Date().timeIntervalSince1970)) -> Result<ConsortiumPolicy.Member, Refusal> {
        guard let node = header(nodeHeader), let timeText = header(timeHeader), let nonce = header(nonceHeader),
              let sigText = header(signatureHeader) else { return .failure(.missing) }
        guard let to = header(toHeader) else { return .failure(.oldVersion) }
        guard let member = policy.member(node) else { return .failure(.unknownNode(node)) }
        guard let time = Int64(timeText) else { return .failure(.badSignature) }
        // The signature is checked over the Host value the request arrived with (lowercased): a request
        // signed for another authority does not verify here.
        let host = authority.lowercased()
        guard nonce.utf8.count >= 16, nonce.utf8.count <= 64, let sig = Base64.decode(sigText), sig.count == 64,
              let key = try? Ed25519Key.fromPublic(member.ed25519) else { return .failure(.badSignature) }
        guard key.verify(sig, message: message(method: method, target: target, bodySHA256: bodySHA256, node: node, to: to,
                                               authority: host, time: time, nonce: nonce)) else { return .failure(.badSignature) }
        guard to == selfNode else { return .failure(.wrongNode(to)) }
        // Times outside [0, maxTime] are refused before any arithmetic, so `now - time` cannot overflow.
        guard time >= 0, time <= maxTime, now >= 0, now <= maxTime else { return .failure(.stale(time < 0 || time > maxTime ? Int64.max : 0)) }
        let skew = now - time
        guard skew <= maxSkew, skew >= -maxSkew else { return .failure(.stale(skew)) }
        do {
            guard try nonces.insert(node: node, nonce: nonce, time: time, now: now) else { return .failure(.replayed) }
        } catch {
            return .failure(.store("\(error)"))
        }
        return .success(member)
    }
}

/// Nonces seen within the skew window, kept in SQLite (`nonces.db` in the node home, through
/// `NonceStore`) so a restart does not forget them; rows older than 2 x maxSkew are pruned (their
/// times are refused as stale anyway). `NonceCache()` keeps them in memory only.
public final class NonceCache: Sendable {
    private let store: Mutex<NonceStore>

    /// A store in memory (tests, and callers without a home).
    public convenience init() {
        try! self.init(path: ":memory:")
    }

    public init(path: String) throws {
        store = Mutex(try NonceStore(path: path))
    }

    /// Record the nonce; false when it was already seen. `time` and `now` are within [0, 2^40].
    func insert(node: String, nonce: String, time: Int64, now: Int64) throws -> Bool {
        try store.withLock { try $0.insert(node: node, nonce: nonce, time: time, now: now, pruneBefore: now - 2 * RequestAuth.maxSkew) }
    }
}
