import Foundation
import Testing
import SXEvidenceCore

/// The cross-county read found by the outside attack (sxevidence-consortium(5), ACCESS): county B
/// signs an entry naming county A's object (digest, size and SM3, without the bytes), pushes it, and
/// asks the city for the bytes. Every request is made with the independent signing client.
@Suite(.serialized) struct AccessRuleTests {
    @Test func aReferenceGrantsNoAccessToAnotherMembersObject() throws {
        let net = try ConsortiumNodesTests.Net(counties: ["330603", "330681"])
        try net.addFiles("330603", count: 1, tag: "keqiao-secret")
        try expectOK(net.sx("330603", ["sync"]))
        let a = try NodeHome.open(net.home("330603"))
        let stolen = try #require(try a.ledger.entry(index: 0)?.artifacts.first ?? a.ledger.artifacts(from: 0, to: 1).first)
        let secret = try POSIXFile.readAll(a.store.path(forSHA256: stolen.sha256))

        // County B (Zhuji) forges an entry that names A's object, signed with its own real keys.
        let b = try NodeHome.open(net.home("330681"))
        let keys = try b.loadKeys()
        _ = try b.ledger.append([EntryDraft(kind: .file, caseID: "X", officer: "B1", method: "sxevidence-add/1", note: nil,
                                            artifacts: [Artifact(name: "stolen.bin", size: stolen.size, sha256: stolen.sha256, sm3: stolen.sm3)])],
                                sign: keys.sign)
        try expectOK(net.sx("330681", ["sync"]))

        let tool = repoRoot.appendingPathComponent("Tests/tools/signed_request.py").path
        // The destination node is the one whose server the URL names (sxevidence-request/2).
        func to(_ url: String) -> String { net.nodes.first { url.hasPrefix($0.value.url + "/") }?.key ?? "" }
        func signed(_ node: String, _ url: String, method: String = "GET", extra: [String] = []) throws -> (Int, String) {
            let r = try net.s.run(["python3", tool, "--key", net.home(node) + "/keys/ed25519.pem", "--node", node, "--to", to(url), "--method", method] + extra + [url])
            let status = Int(r.out.split(separator: "\n").first ?? "") ?? -1
            return (status, String(r.out.drop(while: { $0 != "\n" }).dropFirst()))
        }
        // B's reference gives no access to the bytes A delivered.
        let steal = try signed("330681", net.city.url + "/v1/objects/\(stolen.sha256)")
        #expect(steal.0 == 403, "B read A's object through a reference: \(steal.0)")
        #expect(steal.1.contains("ACCESS") && !secret.isEmpty, "\(steal.1)")
        // Nor does a probe say that the city holds it: it is "not delivered by you".
        let list = net.s.write("digests.txt", stolen.sha256 + "\n")
        let probe = try signed("330681", net.city.url + "/v1/objects/missing", method: "POST", extra: ["--body", list])
        #expect(probe.0 == 200 && probe.1.contains(stolen.sha256), "probe: \(probe)")
        // A still reads its own object (restore), and the bytes are its own.
        let own = try signed("330603", net.city.url + "/v1/objects/\(stolen.sha256)")
        #expect(own.0 == 200, "A's own object: \(own.0)")
        // B may not read A's log, on the city or on A's own server.
        #expect(try signed("330681", net.city.url + "/v1/replicas/330603/batch").0 == 403)
        #expect(try signed("330681", net.city.url + "/v1/replicas/330603/checkpoint").0 == 403)
        #expect(try signed("330681", net.city.url + "/v1/anchors/330603?size=1").0 == 403)
        #expect(try signed("330681", net.nodes["330603"]!.url + "/v1/batch").0 == 403)
        // The city may.
        #expect(try signed("330600", net.nodes["330603"]!.url + "/v1/batch").0 == 200)
        // An object no entry of B names is not accepted from B.
        let junk = pseudoRandom(4096, seed: 99)
        let junkFile = net.s.write("junk.bin", junk)
        var bundle = Array("sxevidence-objects/1\n".utf8) + Array("\(Hex.encode(Hashing.sha256(junk))) \(junk.count)\n".utf8) + junk
        let bundleFile = net.s.write("junk.bundle", bundle)
        bundle.removeAll()
        #expect(try signed("330681", net.city.url + "/v1/objects", method: "POST", extra: ["--body", bundleFile]).0 == 403)
        _ = junkFile
        let junkAtCity = net.home("330600") + "/objects/sha256/\(Hex.encode(Hashing.sha256(junk)).prefix(2))/\(Hex.encode(Hashing.sha256(junk)))"
        #expect(!FileManager.default.fileExists(atPath: junkAtCity), "an object no entry names was stored")
        // The city's view stays sound.
        #expect(try net.cityView().ok)
    }

    /// add-checkpoint (unsigned, C2SP tlog-witness) for a checkpoint whose entries the city never
    /// received: refused, nothing cosigned or anchored; pushed, it is cosigned and anchored.
    @Test func theCityCosignsOnlyWhatItsReplicaBacks() throws {
        let net = try ConsortiumNodesTests.Net(counties: ["330603"])
        try net.addFiles("330603", count: 2, tag: "w")
        try expectOK(net.sx("330603", ["sync"]))
        func anchors() throws -> Int {
            let log = try net.sx("330600", ["log", "--json"]).json as? [[String: Any]] ?? []
            return log.filter { $0["kind"] as? String == "anchor" }.count
        }
        let before = try anchors()
        try net.addFiles("330603", count: 1, tag: "unseen")
        let size = try net.size("330603")
        let body = try net.sx("330603", ["proof", "consistency", String(size - 1), String(size)]).out
        let r = try net.s.run(["curl", "-s", "-w", "\n%{http_code}", "--data-binary", "@-", net.city.url + "/add-checkpoint"], stdin: body)
        #expect(r.out.hasSuffix("\n422") && r.out.contains("not been pushed"), "\(r.out)")
        #expect(try anchors() == before, "an anchor was made for entries the city never saw")
        #expect(try net.cityView().ok)
        try expectOK(net.sx("330603", ["sync"]))
        #expect(try anchors() == before + 1)
        #expect(try net.cityView().ok)
    }

    /// A link planted in the object store is not followed; a ledger database replaced while `serve`
    /// runs is noticed and not served.
    @Test func plantedLinksAndReplacedLedgersAreRefused() throws {
        let net = try ConsortiumNodesTests.Net(counties: ["330603"])
        try net.addFiles("330603", count: 1, tag: "l")
        let tool = repoRoot.appendingPathComponent("Tests/tools/signed_request.py").path
        func signed(_ node: String, _ url: String) throws -> Int {
            let to = net.nodes.first { url.hasPrefix($0.value.url + "/") }?.key ?? ""
            let r = try net.s.run(["python3", tool, "--key", net.home(node) + "/keys/ed25519.pem", "--node", node, "--to", to, "--method", "GET", url])
            return Int(r.out.split(separator: "\n").first ?? "") ?? -1
        }
        let secret = net.s.write("outside-secret.txt", "not evidence\n")
        let sha = Hex.encode(Hashing.sha256(Array("not evidence\n".utf8)))
        let dir = net.home("330603") + "/objects/sha256/\(sha.prefix(2))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/" + sha, withDestinationPath: secret)
        #expect(try signed("330600", net.nodes["330603"]!.url + "/v1/objects/\(sha)") == 404, "a planted link was followed")
        // Replace the county's ledger file under its running server (same bytes, another file).
        let db = net.home("330603") + "/ledger.db"
        #expect(try signed("330600", net.nodes["330603"]!.url + "/v1/batch") == 200)
        try expectOK(net.s.run(["sh", "-c", "cp \"$0\" \"$0.new\" && mv \"$0.new\" \"$0\"", db]))
        let after = try signed("330600", net.nodes["330603"]!.url + "/v1/batch")
        #expect(after == 500, "a replaced ledger was served: \(after)")
    }
}
