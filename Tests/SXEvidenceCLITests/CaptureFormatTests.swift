import Foundation
import Testing

/// The capture formats of sxevidence-capture(5): a new capture is sxevidence-capture/2, its
/// environment record and capture log canonical JSON (checked by Python's json.dumps, not by our
/// encoder); a capture written before the change (sxevidence-capture/1, fixtures/captures/v1) still
/// verifies by the same procedure.
@Suite(.serialized) struct CaptureFormatTests {
    let checker = repoRoot.appendingPathComponent("Tests/tools/check_capture.py").path

    /// The blocks of the two metadata records of a WARC, by target URI.
    func metadataBlocks(_ s: Scratch, _ warc: String) throws -> [String: [UInt8]] {
        let recs = try s.warcRecords(warc)
        var out: [String: [UInt8]] = [:]
        for r in recs where r["type"] == "metadata" {
            if let u = r["uri"], u.hasPrefix("urn:sxevidence:") { out[u] = hexBytes(r["raw_hex"] ?? "") }
        }
        return out
    }

    @Test func newCaptureIsCanonical() throws {
        let shop = try ShopServer()
        let s = Scratch("capfmt")
        try s.initNode()
        let r = try s.sx(["capture", "--no-browser", "--case", "SX-2026-007", "--officer", "A01", "--note", "格式 v2 \"引号\"\t", shop.url("/go")])
        try #require(r.status == 0, "\(r.err)")
        let id = String(r.out.prefix(13))
        let manifestPath = try s.artifact(id, "manifest.json"), warc = try s.artifact(id, "capture.warc.gz")
        let m = try s.manifest(id)
        #expect(m["format"] as? String == "sxevidence-capture/2")
        let entry = s.write("entry.json", try s.sx(["show", id, "--json"]).out)
        let c = try s.run(["python3", checker, entry, manifestPath, warc])
        #expect(c.status == 0 && c.out.hasPrefix("OK: sxevidence-capture/2"), "\(c.out) \(c.err)")

        // Independently of the checker: both blocks equal Python's canonical re-encoding.
        let blocks = try metadataBlocks(s, warc)
        for uri in ["urn:sxevidence:environment", "urn:sxevidence:capture-log"] {
            let b = try #require(blocks[uri], "no \(uri) record")
            let path = s.write(uri.replacingOccurrences(of: ":", with: "_"), b)
            let py = try s.run(["python3", "-c", """
                import json, sys
                b = open(sys.argv[1], 'rb').read()
                assert b == json.dumps(json.loads(b), sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode()
                print('canonical')
                """, path])
            #expect(py.status == 0 && py.out.hasPrefix("canonical"), "\(uri): \(py.err)")
            #expect(b.last == UInt8(ascii: "}"), "\(uri): no trailing newline")
        }
        // The members whose JSON types changed form: integer milliseconds, booleans.
        let env = try #require(try JSONSerialization.jsonObject(with: Data(blocks["urn:sxevidence:environment"] ?? [])) as? [String: Any])
        #expect(env["clock_offset_seconds_vs_server_date"] == nil)
        // The fixture shop sends a Date header, so the offset is a number of milliseconds, not null.
        let offset = try #require(env["clock_offset_ms_vs_server_date"] as? NSNumber)
        #expect(abs(offset.int64Value) < 600_000 && offset.stringValue == String(offset.int64Value))
        let hosts = try #require(env["hosts"] as? [[String: Any]])
        #expect(hosts.first?["dns_matches_connected"] as? Bool == true)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(blocks["urn:sxevidence:capture-log"] ?? [])) as? [String: Any])
        #expect(log["error"] is NSNull)
        #expect((log["exchanges"] as? [[String: Any]])?.count == 2)
        #expect(try s.sx(["verify"]).status == 0)
    }

    @Test func versionOneCaptureStillVerifies() throws {
        let dir = repoRoot.appendingPathComponent("fixtures/captures/v1").path
        let s = Scratch("capv1")
        let c = try s.run(["python3", checker, dir + "/entry.json", dir + "/manifest.json", dir + "/capture.warc.gz"])
        #expect(c.status == 0 && c.out.hasPrefix("OK: sxevidence-capture/1"), "\(c.out) \(c.err)")
        // Its blocks are the pretty-printed form (not canonical), which the checker must not require.
        let blocks = try metadataBlocks(s, dir + "/capture.warc.gz")
        let env = try #require(blocks["urn:sxevidence:environment"])
        #expect(env.starts(with: Array("{\n  \"ca_bundle\" : ".utf8)))
        // A version-2 claim on those same blocks is refused as not canonical: the check is real.
        let forge = try s.run(["python3", "-c", """
            import hashlib, json, sys
            src, out = sys.argv[1], sys.argv[2]
            m = open(src + '/manifest.json', 'rb').read().replace(b'sxevidence-capture/1', b'sxevidence-capture/2')
            open(out + '/manifest.json', 'wb').write(m)
            e = json.load(open(src + '/entry.json'))
            e['artifacts'][0].update(size=len(m), sha256=hashlib.sha256(m).hexdigest())
            json.dump(e, open(out + '/entry.json', 'w'))
            """, dir, s.dir])
        try #require(forge.status == 0, "\(forge.err)")
        let bad = try s.run(["python3", checker, s.dir + "/entry.json", s.dir + "/manifest.json", dir + "/capture.warc.gz"])
        #expect(bad.status == 1 && bad.out.contains("not canonical"), "\(bad.out)")
    }
}
