import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import SXEvidenceCore
import SXEvidenceServer
import Testing

/// The server built as a plain function: requests go straight into the router's responder.
@Suite struct RouterTests {
    final class Collector: ResponseBodyWriter, @unchecked Sendable {
        var bytes: [UInt8] = []
        func write(_ buffer: ByteBuffer) async throws { bytes += buffer.readableBytesView }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    struct Node {
        let home: NodeHome
        let keys: NodeKeys
    }

    static func node(_ dir: String, _ id: String, _ role: NodeRole) throws -> Node {
        let cfg = NodeConfig(nodeID: id, name: "n\(id)", role: role, origin: NodeConfig.defaultOrigin(nodeID: id), created: UTCTime.now())
        let h = try NodeHome.create(at: dir + "/" + id, config: cfg)
        return Node(home: h, keys: try h.loadKeys())
    }

    /// A city with a policy naming one county; returns the responder and both nodes.
    static func setUp() throws -> (RouterResponder<NodeRequestContext>, Node, Node) {
        let dir = NSTemporaryDirectory() + "sxe-router-\(UUID().uuidString.prefix(8))"
        let city = try node(dir, "330600", .city), county = try node(dir, "330603", .county)
        func member(_ n: Node) -> ConsortiumPolicy.Member {
            .init(nodeID: n.home.config.nodeID, name: n.home.config.name, role: n.home.config.role, origin: n.home.config.origin,
                  ed25519: n.keys.ed25519.publicKey, sm2: n.keys.sm2.publicPoint, endpoint: "")
        }
        let p = ConsortiumPolicy(version: 1, city: "330600", created: UTCTime.now(), members: [member(city), member(county)], cosigners: ["330600"])
        try city.home.importPolicy(try p.signed(with: city.keys).serialized)
        let service = try ConsortiumService(homePath: city.home.path)
        let config = NodeServer.Configuration(host: "127.0.0.1", port: 0, tsa: nil, nodeID: "330600", consortium: service)
        return (NodeServer.buildRouter(config).buildResponder(), city, county)
    }

    static func call(_ r: RouterResponder<NodeRequestContext>, _ method: HTTPRequest.Method, _ path: String, body: [UInt8] = [],
                     headers: [(String, String)] = []) async throws -> (Int, String) {
        var fields = HTTPFields()
        for (k, v) in headers { fields[HTTPField.Name(k)!] = v }
        let req = Request(head: HTTPRequest(method: method, scheme: "http", authority: "node", path: path, headerFields: fields),
                          body: RequestBody(buffer: ByteBuffer(bytes: body)))
        let ctx = NodeRequestContext(source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: Logger(label: "test")))
        let resp = try await r.respond(to: req, context: ctx)
        let c = Collector()
        try await resp.body.write(c)
        return (Int(resp.status.code), String(decoding: c.bytes, as: UTF8.self))
    }

    @Test func healthPolicyAndRefusals() async throws {
        let (r, city, _) = try Self.setUp()
        let health = try await Self.call(r, .get, "/health")
        #expect(health.0 == 200 && health.1.contains("\"consortium\":true"))
        let pol = try await Self.call(r, .get, "/v1/policy")
        let policyText = try POSIXFile.readText(city.home.policyPath)
        #expect(pol.0 == 200 && pol.1 == policyText)
        let unsigned = try await Self.call(r, .post, "/v1/push", body: Array("x".utf8))
        #expect(unsigned.0 == 403)
        let garbage = try await Self.call(r, .post, "/add-checkpoint", body: Array("garbage".utf8))
        #expect(garbage.0 == 400)
    }

    /// A flood of unsigned add-checkpoint calls is answered 429 once the bucket is empty, at once;
    /// signed routes are not limited by it.
    @Test func unsignedFloodIsRateLimited() async throws {
        let (r, _, _) = try Self.setUp()
        var codes: [Int] = []
        for _ in 0..<60 { codes.append(try await Self.call(r, .post, "/add-checkpoint", body: Array("garbage".utf8)).0) }
        #expect(codes.prefix(30).allSatisfy { $0 == 400 }, "\(codes)")
        #expect(codes.contains(429), "\(codes)")
        let unsigned = try await Self.call(r, .post, "/v1/push", body: Array("x".utf8))
        #expect(unsigned.0 == 403, "signed routes answer as before")
    }

    /// A signed push from the county is verified, applied, cosigned and anchored, all in-process.
    @Test func signedPushIsCosignedAndAnchored() async throws {
        let (r, city, county) = try Self.setUp()
        let a = Artifact(name: "f", size: 1, sha256: Hex.encode(Hashing.sha256([1])), sm3: String(repeating: "0", count: 64))
        try county.home.ledger.append([EntryDraft(kind: .file, caseID: "C", officer: "A", method: "t", note: nil, artifacts: [a])], sign: county.keys.sign)
        let batch = try #require(try county.home.ledger.batch(old: 0, max: 100)).serialized
        let digest = Hex.encode(Hashing.sha256(batch))
        let headers = try RequestAuth.sign(method: "POST", target: "/v1/push", bodySHA256: digest, node: "330603", to: "330600", authority: "node",
                                           key: county.keys.ed25519)
            + [("SX-Content-SHA256", digest)]
        let (status, lines) = try await Self.call(r, .post, "/v1/push", body: batch, headers: headers)
        #expect(status == 200, "\(lines)")
        let cp = try #require(try county.home.ledger.checkpoint())
        let note = try SignedNote.parse(cp.note + lines)
        let v = try Cosignature.Verifier(name: city.home.config.origin, ed25519Public: city.keys.ed25519.publicKey, sm2Point: city.keys.sm2.publicPoint)
        #expect(v.check(note.signatures, checkpointText: note.text).ok)
        // The same request again is a replay.
        let replay = try await Self.call(r, .post, "/v1/push", body: batch, headers: headers)
        #expect(replay.0 == 403)
        // The city's ledger now holds the anchor entry.
        let anchors = try city.home.ledger.allCosigned()
        #expect(anchors.count == 1 && anchors[0].size == 1 && anchors[0].anchorIndex != nil)
    }
}
