import Foundation
import Testing
@testable import SXEvidenceCore

/// The one JSON rule: signed and hashed documents are read by the strict reader and written by the
/// canonical writer; the writer's bytes are checked against Python's json.dumps.
@Suite struct StrictJSONTests {
    @Test func readerRefusesDuplicateKeysAndOutOfRangeIntegers() throws {
        #expect(throws: MiniJSON.Malformed.self) { try MiniJSON.parse(Array(#"{"a":1,"a":1}"#.utf8)) }
        #expect(throws: MiniJSON.Malformed.self) { try MiniJSON.parse(Array(#"{"x":{"b":"","c":0,"b":""}}"#.utf8)) }
        // Out of order first, then a repeat of an earlier key: the in-order shortcut must not hide it.
        for doc in [#"{"b":1,"a":2,"b":3}"#, #"{"c":1,"a":2,"b":3,"c":4}"#, #"{"a":1,"c":2,"b":3,"c":4}"#, #"{"ab":1,"a":2,"ab":3}"#] {
            #expect(throws: MiniJSON.Malformed.self, "\(doc)") { try MiniJSON.parse(Array(doc.utf8)) }
        }
        #expect(try MiniJSON.parse(Array(#"{"b":1,"a":2,"c":3}"#.utf8))["c"]?.int == 3)
        #expect(throws: MiniJSON.Malformed.self) { try MiniJSON.parse(Array(#"{"n":9223372036854775808}"#.utf8)) }
        #expect(throws: MiniJSON.Malformed.self) { try MiniJSON.parse(Array(#"{"n":1.5}"#.utf8)) }
        // bundle.json alone is read with the first of duplicate keys counting (sxevidence-bundle(5)).
        #expect(try MiniJSON.parse(Array(#"{"a":1,"a":2}"#.utf8), duplicateKeys: .firstWins)["a"]?.int == 1)
        // The same key in sibling objects is not a duplicate.
        let v = try MiniJSON.parse(Array(#"[{"a":1},{"a":-2}]"#.utf8))
        #expect(v.array?.last?["a"]?.int == -2)
        #expect(try MiniJSON.parse(Array(#"{"n":9223372036854775807}"#.utf8))["n"]?.int == Int64.max)
    }

    @Test func canonicalValueMatchesPython() throws {
        let v = CanonicalValue.object([
            "zh": .string("证据 a/b \"q\" \\ \u{1}\t\n\u{7F}"), "neg": .int(-1250), "t": .bool(true), "f": .bool(false),
            "n": .null, "list": .array([.int(0), .strings(["x", ""]), .object([:])]), "Z": .int(Int64.max),
        ])
        let bytes = v.canonicalBytes
        let path = tempDir("canon") + "/v.json"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let py = try runTool(["python3", "-c", """
            import json, sys
            b = open(sys.argv[1], 'rb').read()
            sys.stdout.write('same' if b == json.dumps(json.loads(b), sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode() else 'differs')
            """, path])
        #expect(py.out == "same", "\(String(decoding: bytes, as: UTF8.self)) \(py.err)")
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"Z":9223372036854775807,"f":false,"list":[0,["x",""],{}],"n":null,"neg":-1250,"t":true,"#))
        // And it reads back through the strict reader.
        #expect(try MiniJSON.parse(bytes)["neg"]?.int == -1250)
    }

    static func policy() throws -> ConsortiumPolicy {
        let city = NodeKeys(ed25519: try Ed25519Key.generate(), sm2: try SM2Key.generate(), name: "sx.city")
        let m = ConsortiumPolicy.Member(nodeID: "330600", name: "绍兴", role: .city, origin: NodeConfig.defaultOrigin(nodeID: "330600"),
                                        ed25519: city.ed25519.publicKey, sm2: city.sm2.publicPoint, endpoint: "http://127.0.0.1:1")
        return ConsortiumPolicy(version: 2, city: "330600", created: "2026-12-02T00:00:00Z", members: [m], cosigners: ["330600"])
    }

    @Test func policyReadStrictlyAndWrittenCanonically() throws {
        let p = try Self.policy()
        #expect(try ConsortiumPolicy.parse(text: p.text) == p)
        // The policy's JSON line is exactly Python's canonical form of itself.
        let line = String(p.text.split(separator: "\n")[1])
        let path = tempDir("policy") + "/p.json"
        try Data(line.utf8).write(to: URL(fileURLWithPath: path))
        let py = try runTool(["python3", "-c", """
            import json, sys
            b = open(sys.argv[1], 'rb').read()
            sys.stdout.write('same' if b == json.dumps(json.loads(b), sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode() else 'differs')
            """, path])
        #expect(py.out == "same", "\(py.err)")
        // A duplicated key, a version out of range, a fraction, a boolean for a number: all refused as data errors.
        let dup = p.text.replacingOccurrences(of: #"{"city":"330600","#, with: #"{"city":"330600","city":"330600","#)
        let huge = p.text.replacingOccurrences(of: #""version":2}"#, with: #""version":99999999999999999999}"#)
        let frac = p.text.replacingOccurrences(of: #""version":2}"#, with: #""version":2.0}"#)
        let bool = p.text.replacingOccurrences(of: #""version":2}"#, with: #""version":true}"#)
        for bad in [dup, huge, frac, bool] {
            #expect(bad != p.text)
            let e = #expect(throws: EvidenceError.self) { try ConsortiumPolicy.parse(text: bad) }
            #expect(e?.code == .dataError)
        }
    }
}
