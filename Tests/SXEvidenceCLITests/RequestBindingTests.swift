import Foundation
import Testing

/// Signed requests are bound to the receiving server (sxevidence-consortium(5), AUTHENTICATION):
/// a request signed for one node or authority is refused by another, and a nonce accepted before a
/// restart is still refused after it (nonces.db). Driven by the independent client
/// Tests/tools/signed_request.py against real `sxevidence serve` processes.
@Suite(.serialized, .needs(.python3, .openssl)) struct RequestBindingTests {
    static let tool = repoRoot.appendingPathComponent("Tests/tools/signed_request.py").path

    static func signed(_ net: ConsortiumNodesTests.Net, from node: String, to: String, url: String, _ path: String,
                       extra: [String] = []) throws -> (Int, String) {
        let r = try net.s.run(["python3", tool, "--key", net.home(node) + "/keys/ed25519.pem", "--node", node, "--to", to] + extra + [url + path])
        let status = Int(r.out.split(separator: "\n").first ?? "") ?? -1
        return (status, String(r.out.drop(while: { $0 != "\n" }).dropFirst()) + r.err)
    }

    @Test func boundToNodeAuthorityAndNonceSurvivesRestart() throws {
        let net = try ConsortiumNodesTests.Net(counties: ["330603", "330604"])
        try net.addFiles("330603", count: 1, tag: "a")
        try expectOK(net.sx("330603", ["sync"]))
        let a = net.nodes["330603"]!, b = net.nodes["330604"]!
        let path = "/v1/replicas/330603/checkpoint"

        // Signed by the city for county A: accepted by A (a county holds no replica: 204, no content),
        // refused by B.
        let t = String(Int(Date().timeIntervalSince1970))
        let fixed = ["--time", t, "--nonce", "0123456789abcdef0123456789abcdef"]
        let toA = try Self.signed(net, from: "330600", to: "330603", url: a.url, path, extra: fixed)
        #expect(toA.0 == 204 && toA.1.isEmpty, "\(toA)")
        let toB = try Self.signed(net, from: "330600", to: "330603", url: b.url, path, extra: fixed)
        #expect(toB.0 == 403 && toB.1.contains("addressed to node 330603"), "\(toB)")
        // The same request addressed to B but signed for A's authority (host:port) does not verify at B.
        let hostA = String(a.url.dropFirst("http://".count))
        let wrongHost = try Self.signed(net, from: "330600", to: "330604", url: b.url, path, extra: ["--authority", hostA])
        #expect(wrongHost.0 == 403 && wrongHost.1.contains("signature does not verify"), "\(wrongHost)")
        let rightHost = try Self.signed(net, from: "330600", to: "330604", url: b.url, path)
        #expect(rightHost.0 == 204 && rightHost.1.isEmpty, "\(rightHost)")

        // A request accepted by the city, replayed verbatim after a restart, is refused.
        let once = ["--time", t, "--nonce", "fedcba9876543210fedcba9876543210"]
        let first = try Self.signed(net, from: "330603", to: "330600", url: net.city.url, path, extra: once)
        #expect(first.0 == 200, "\(first)")
        #expect(net.city.stop() == 0)
        try net.city.start()
        #expect(FileManager.default.fileExists(atPath: net.home("330600") + "/nonces.db"))
        let replay = try Self.signed(net, from: "330603", to: "330600", url: net.city.url, path, extra: once)
        #expect(replay.0 == 403 && replay.1.contains("nonce was already used"), "\(replay)")
        // A fresh nonce is still accepted after the restart.
        #expect(try Self.signed(net, from: "330603", to: "330600", url: net.city.url, path).0 == 200)
        for n in net.nodes.values { #expect(n.stop() == 0) }
    }
}
