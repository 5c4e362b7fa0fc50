import Foundation

/// Signed node-to-node requests (sxevidence-consortium(5), AUTHENTICATION). The sender signs
///
///     sxevidence-request/1\n METHOD\n PATH?QUERY\n hex(SHA-256(body))\n NODE\n TIME\n NONCE\n
///
/// with its Ed25519 node key and sends it in four headers. The receiver looks the node up in the
/// policy, checks the signature, that TIME is within `maxSkew` of its clock, and that the nonce was
/// not seen in that window.
public enum RequestAuth {
    public static let nodeHeader = "SX-Node"
    public static let timeHeader = "SX-Time"
    public static let nonceHeader = "SX-Nonce"
    public static let signatureHeader = "SX-Signature"
    public static let maxSkew: Int64 = 300
    /// Largest SX-Time accepted (2^40 s, about year 36812); larger or negative times are stale.
    public static let maxTime: Int64 = 1 << 40

    public static func message(method: String, target: String, bodySHA256: String, node: String, time: Int64, nonce: String) -> [UInt8] {
        Array("sxevidence-request/1\n\(method)\n\(target)\n\(bodySHA256)\n\(node)\n\(time)\n\(nonce)\n".utf8)
    }

    /// The four header values for a request.
    public static func sign(method: String, target: String, bodySHA256: String, node: String, key: Ed25519Key,
                            now: Int64 = Int64(Date().timeIntervalSince1970)) throws -> [(String, String)] {
        var r = [UInt8](repeating: 0, count: 16)
        for i in r.indices { r[i] = UInt8.random(in: 0...255) }
        let nonce = Hex.encode(r)
        let sig = try key.sign(message(method: method, target: target, bodySHA256: bodySHA256, node: node, time: now, nonce: nonce))
        return [(nodeHeader, node), (timeHeader, String(now)), (nonceHeader, nonce), (signatureHeader, Base64.encode(sig))]
    }

    public enum Refusal: Error, Sendable, Equatable {
        case missing, unknownNode(String), badSignature, stale(Int64), replayed
        public var text: String {
            switch self {
            case .missing: return "request is not signed"
            case .unknownNode(let n): return "node \(n) is not a member of the consortium"
            case .badSignature: return "request signature does not verify"
            case .stale(let d): return "request time is \(d) s away from the server clock"
            case .replayed: return "request nonce was already used"
            }
        }
    }

    /// Check a request; returns the member it came from.
    public static func check(method: String, target: String, bodySHA256: String, header: (String) -> String?,
                             policy: ConsortiumPolicy, nonces: NonceCache,
                             now: Int64 = Int64(Date().timeIntervalSince1970)) -> Result<ConsortiumPolicy.Member, Refusal> {
        guard let node = header(nodeHeader), let timeText = header(timeHeader), let nonce = header(nonceHeader),
              let sigText = header(signatureHeader) else { return .failure(.missing) }
        guard let member = policy.member(node) else { return .failure(.unknownNode(node)) }
        guard let time = Int64(timeText) else { return .failure(.badSignature) }
        guard nonce.utf8.count >= 16, nonce.utf8.count <= 64, let sig = Base64.decode(sigText), sig.count == 64,
              let key = try? Ed25519Key.fromPublic(member.ed25519),
              key.verify(sig, message: message(method: method, target: target, bodySHA256: bodySHA256, node: node, time: time, nonce: nonce))
        else { return .failure(.badSignature) }
        // Times outside [0, maxTime] are refused before any arithmetic, so `now - time` cannot overflow.
        guard time >= 0, time <= maxTime, now >= 0, now <= maxTime else { return .failure(.stale(time < 0 || time > maxTime ? Int64.max : 0)) }
        let skew = now - time
        guard skew <= maxSkew, skew >= -maxSkew else { return .failure(.stale(skew)) }
        guard nonces.insert(node + "/" + nonce, time: time, now: now) else { return .failure(.replayed) }
        return .success(member)
    }
}

/// Nonces seen within the skew window; older ones are dropped (their times are refused as stale anyway).
public final class NonceCache: @unchecked Sendable {
    private var seen: [String: Int64] = [:]
    private let lock = NSLock()
    public init() {}

    func insert(_ key: String, time: Int64, now: Int64) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if seen.count > 10_000 { seen = seen.filter { now - $0.value <= RequestAuth.maxSkew } }  // times are in [0, 2^40]
        if seen[key] != nil { return false }
        seen[key] = time
        return true
    }
}
