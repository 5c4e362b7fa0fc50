import Foundation
import Testing
@testable import SXEvidenceCore

@Suite(.needs(.openssl), .temporaryFolders) struct CryptoTests {
    @Test func selfTestPasses() {
        for r in CryptoSelfTest.run() { #expect(r.ok, "\(r.name)") }
    }

    /// Streaming SHA-256 and SM3 over a multi-megabyte file equal what the openssl command computes.
    @Test func digestsMatchOpenSSLCommand() throws {
        let dir = tempDir("dg")
        let f = dir + "/blob"
        var bytes = [UInt8](repeating: 0, count: 5_000_001)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
        try Data(bytes).write(to: URL(fileURLWithPath: f))
        let store = ObjectStore(root: dir + "/objects")
        try POSIXFile.mkdirs(dir + "/objects/tmp")
        try POSIXFile.mkdirs(dir + "/objects/sha256")
        let a = try store.ingest(path: f, name: "blob")
        let sha = try runTool(["openssl", "dgst", "-sha256", "-r", f]).out.split(separator: " ")[0]
        let sm3 = try runTool(["openssl", "dgst", "-sm3", "-r", f]).out.split(separator: " ")[0]
        #expect(a.sha256 == String(sha))
        #expect(a.sm3 == String(sm3))
        #expect(a.size == 5_000_001)
        let stored = try Data(contentsOf: URL(fileURLWithPath: store.path(forSHA256: a.sha256)))
        #expect([UInt8](stored) == bytes)
        var st = stat()
        stat(store.path(forSHA256: a.sha256), &st)
        #expect(st.st_mode & 0o777 == 0o444)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/objects/tmp").isEmpty)
    }

    /// Our Ed25519 and SM2 signatures verify with the openssl command line (an independent implementation path).
    @Test func signaturesVerifyWithOpenSSLCommand() throws {
        let dir = tempDir("sig")
        let msg = Array("sxevidence.shaoxing/330603\n3\nAAAA\n".utf8)
        try Data(msg).write(to: URL(fileURLWithPath: dir + "/msg"))
        let ed = try Ed25519Key.generate()
        try ed.publicPEM().write(toFile: dir + "/ed.pem", atomically: false, encoding: .utf8)
        try Data(try ed.sign(msg)).write(to: URL(fileURLWithPath: dir + "/ed.sig"))
        let r1 = try runTool(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir + "/ed.pem", "-rawin",
                              "-in", dir + "/msg", "-sigfile", dir + "/ed.sig"])
        #expect(r1.status == 0, "\(r1.err)")
        let sm2 = try SM2Key.generate()
        try sm2.publicPEM().write(toFile: dir + "/sm2.pem", atomically: false, encoding: .utf8)
        try Data(try sm2.sign(msg)).write(to: URL(fileURLWithPath: dir + "/sm2.sig"))
        let r2 = try runTool(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir + "/sm2.pem", "-rawin", "-digest", "sm3",
                              "-pkeyopt", "distid:1234567812345678", "-in", dir + "/msg", "-sigfile", dir + "/sm2.sig"])
        #expect(r2.status == 0, "\(r2.err)")
        // And with a different distinguishing ID it must not verify.
        let r3 = try runTool(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", dir + "/sm2.pem", "-rawin", "-digest", "sm3",
                              "-pkeyopt", "distid:ALICE123@YAHOO.COM", "-in", dir + "/msg", "-sigfile", dir + "/sm2.sig"])
        #expect(r3.status != 0)
    }

    /// The example of c2sp.org/signed-note: its verifier key verifies its note.
    @Test func c2spSignedNoteExample() throws {
        let v = try VerifierKey.parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
        let note = try SignedNote.parse("This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
        let r = note.check(with: [v])
        #expect(r.count == 1 && r[0].ok)
        let forged = SignedNote(text: "This is an example message!\n", signatures: note.signatures)
        #expect(forged.check(with: [v]).first?.ok == false)
        // A key ID that is not the hash of the name and key: a malformed verifier key.
        let badID = #expect(throws: EvidenceError.self) { try VerifierKey.parse("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k") }
        #expect(badID?.code == .dataError, "\(String(describing: badID))")
    }

    @Test func sm2VerifierKeyRoundTrip() throws {
        let k = try SM2Key.generate()
        let signer = SM2NoteSigner(name: "sxevidence.shaoxing/330600", key: k)
        let v = try SM2NoteVerifier(name: signer.name, publicPoint: k.publicPoint)
        let parsed = try VerifierKey.parse(v.vkey)
        #expect(parsed.keyID == signer.keyID && parsed.algorithm == "SM2-SM3")
        let note = try SignedNote.sign(text: "a\n1\nb\n", with: [signer])
        #expect(try SignedNote.parse(note.serialized).check(with: [parsed]).first?.ok == true)
    }

    @Test func malformedNotesRejected() {
        for bad in ["no newline", "text\n— a b\n", "text\n\n", "text\n\n- name AAAAAAA=\n", "text\n\n— name !!!!\n", "te\u{1}xt\n\n— n AAAAAAAA\n"] {
            let e = #expect(throws: EvidenceError.self, "\(bad)") { try SignedNote.parse(bad) }
            #expect(e?.code == .dataError, "\(bad): \(String(describing: e))")
        }
    }
}

@Suite(.needs(.python3)) struct CanonicalJSONTests {
    /// RFC 8785 output equals Python's json.dumps(sort_keys, compact, ensure_ascii=False) for our value space.
    @Test func matchesPythonCanonicalForm() throws {
        let tricky = "珍珠\"\\/\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}\u{2028}é😀"
        let a = Artifact(name: tricky, size: 9_007_199_254_740_991, sha256: "ab", sm3: "cd")
        let body = LedgerEntry.canonicalBody(index: 3, evidenceID: "330603-000004", kind: "file", time: "2026-11-29T00:00:00.000Z",
                                             node: "330603", caseID: "案-1", officer: "A01", method: "m", note: tricky,
                                             artifacts: [a, a], prevHash: [UInt8](repeating: 7, count: 32))
        let script = "import sys,json; o=json.load(sys.stdin); sys.stdout.write(json.dumps(o, sort_keys=True, separators=(',',':'), ensure_ascii=False))"
        let r = try runTool(["python3", "-c", script], stdin: Data(body))
        #expect(r.status == 0)
        #expect(Array(r.out.utf8) == body)
    }
}
