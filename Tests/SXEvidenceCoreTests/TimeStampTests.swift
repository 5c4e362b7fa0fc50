import Foundation
import Testing
@testable import SXEvidenceCore

/// RFC 3161: our TSA against `openssl ts -verify`, an `openssl ts -reply` TSA against our verifier,
/// and every refusal the trusted-time issue names.
@Suite(.needs(.openssl), .temporaryFolders) struct TimeStampTests {
    static let policy = "1.2.156.330600.1.1"

    static func ownTSA() throws -> (TimeStampAuthority, TSACertificates.Issued) {
        let issued = try TSACertificates.issue(nodeID: "330600", name: "绍兴市市场监管局")
        return (try TimeStampAuthority(chainPEM: issued.tsaPEM + issued.caPEM, keyPEM: issued.tsaKeyPEM, policy: policy), issued)
    }

    @Test func ownTSARoundTripAndOpenSSLVerify() throws {
        let (tsa, issued) = try Self.ownTSA()
        let digest = Hashing.sha256(Array("checkpoint text\n".utf8))
        let req = try TimeStamp.makeRequest(digest: digest)
        let resp = try tsa.respond(req.der)
        let info = try TimeStamp.verify(response: resp, digest: digest, algorithm: .sha256, request: req, trustedPEM: issued.caPEM)
        #expect(info.policy == Self.policy)
        #expect(info.imprint == Hex.encode(digest))
        let strip = { (h: String) in h.replacingOccurrences(of: "^0+", with: "", options: .regularExpression) }
        #expect(strip(info.nonce ?? "") == strip(Hex.encode(req.nonce)))
        #expect(info.genTime.hasSuffix("Z") && info.genTime.count >= 20)
        // Serial numbers are unique.
        let serials = try (0..<50).map { _ in try TimeStamp.info(response: try tsa.respond(req.der)).serial }
        #expect(Set(serials).count == 50)
        // openssl ts -verify, independently.
        let dir = tempDir("ts")
        try? (Data(resp)).write(to: URL(fileURLWithPath: dir + "/resp.tsr"))
        try? (Data(req.der)).write(to: URL(fileURLWithPath: dir + "/req.tsq"))
        try issued.caPEM.write(toFile: dir + "/ca.pem", atomically: false, encoding: .utf8)
        let v = try runTool(["openssl", "ts", "-verify", "-in", dir + "/resp.tsr", "-queryfile", dir + "/req.tsq", "-CAfile", dir + "/ca.pem"])
        #expect(v.status == 0 && v.out.contains("OK"), "\(v.out) \(v.err)")
        // SM3 imprints are answered too.
        let sm3 = Hashing.sm3(Array("x".utf8))
        let r2 = try TimeStamp.makeRequest(digest: sm3, algorithm: .sm3)
        let i2 = try TimeStamp.verify(response: try tsa.respond(r2.der), digest: sm3, algorithm: .sm3, request: r2, trustedPEM: issued.caPEM)
        #expect(i2.algorithm == "sm3")
    }

    /// A TSA made with the openssl command (its own CA and config), answering with `openssl ts -reply`.
    @Test func openSSLReplyAccepted() throws {
        let dir = tempDir("osslts")
        let pki = try runTool(["sh", repoRoot.appendingPathComponent("Tests/tools/make_pki.sh").path, dir, "tsa",
                               "/CN=OpenSSL Test TSA CA", "/CN=OpenSSL Test TSA", "sha256,sha384"])
        try #require(pki.status == 0, "make_pki.sh: \(pki.err)")
        let digest = Hashing.sha256(Array("evidence".utf8))
        let req = try TimeStamp.makeRequest(digest: digest)
        try? (Data(req.der)).write(to: URL(fileURLWithPath: dir + "/q.tsq"))
        let r = try runTool(["openssl", "ts", "-reply", "-config", dir + "/tsa.cnf", "-queryfile", dir + "/q.tsq", "-signer", dir + "/tsa.pem",
                             "-inkey", dir + "/tsa.key", "-chain", dir + "/ca.pem", "-out", dir + "/r.tsr"])
        #expect(r.status == 0, "\(r.err)")
        let resp = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/r.tsr")))
        let ca = try String(contentsOfFile: dir + "/ca.pem", encoding: .utf8)
        let info = try TimeStamp.verify(response: resp, digest: digest, algorithm: .sha256, request: req, trustedPEM: ca)
        #expect(info.policy == "1.2.3.4.1")
        #expect(!info.serial.isEmpty)
    }

    @Test func refusals() throws {
        let (tsa, issued) = try Self.ownTSA()
        let digest = Hashing.sha256(Array("a".utf8))
        let req = try TimeStamp.makeRequest(digest: digest)
        let other = try TimeStamp.makeRequest(digest: digest)   // same digest, another nonce
        let resp = try tsa.respond(req.der)
        func refused(_ body: () throws -> Void) -> String {
            do { try body(); return "accepted" } catch let e as EvidenceError { return e.en } catch { return "\(error)" }
        }
        // Wrong nonce.
        let wrongNonce = refused { _ = try TimeStamp.verify(response: try tsa.respond(other.der), digest: digest, algorithm: .sha256, request: req, trustedPEM: issued.caPEM) }
        #expect(wrongNonce.contains("nonce"), "\(wrongNonce)")
        // Wrong imprint.
        let wrongImprint = refused { _ = try TimeStamp.verify(response: resp, digest: Hashing.sha256([1]), algorithm: .sha256, request: nil, trustedPEM: issued.caPEM) }
        #expect(wrongImprint.contains("imprint"), "\(wrongImprint)")
        // Untrusted root.
        let stranger = try TSACertificates.issue(nodeID: "999999", name: "stranger")
        let untrusted = refused { _ = try TimeStamp.verify(response: resp, digest: digest, algorithm: .sha256, request: req, trustedPEM: stranger.caPEM) }
        #expect(untrusted.contains("certificate"), "\(untrusted)")
        // An expired TSA certificate.
        let expired = try TSACertificates.issueTSA(caPEM: issued.caPEM, caKeyPEM: issued.caKeyPEM, cn: "expired TSA",
                                                   extendedKeyUsage: "critical,timeStamping", validFromDays: -30, validToDays: -1)
        let old = try TimeStampAuthority(chainPEM: expired.certPEM + issued.caPEM, keyPEM: expired.keyPEM, policy: Self.policy)
        let expiredMsg = refused { _ = try TimeStamp.verify(response: try old.respond(req.der), digest: digest, algorithm: .sha256, request: req, trustedPEM: issued.caPEM) }
        #expect(expiredMsg.contains("expired"), "\(expiredMsg)")
        // A signer certificate without the timeStamping usage: no TSA (ours or openssl's) will sign with
        // one, so the token's certificate is swapped for one with the same key and no such usage.
        let own = try TSACertificates.issueTSA(caPEM: issued.caPEM, caKeyPEM: issued.caKeyPEM, cn: "TSA", extendedKeyUsage: "critical,timeStamping",
                                               validFromDays: -1, validToDays: 30)
        let noEKU = try TSACertificates.issueTSA(caPEM: issued.caPEM, caKeyPEM: issued.caKeyPEM, cn: "TSA", extendedKeyUsage: nil,
                                                 validFromDays: -1, validToDays: 30, keyPEM: own.keyPEM, serialOf: own.certPEM)
        // A chain file whose certificate may not sign time stamps is bad input (65), not a failed check.
        let noEKUError = #expect(throws: EvidenceError.self) { _ = try TimeStampAuthority(chainPEM: noEKU.certPEM, keyPEM: noEKU.keyPEM, policy: Self.policy) }
        #expect(noEKUError?.code == .dataError && noEKUError?.en.contains("timeStamping") == true, "\(String(describing: noEKUError))")
        let goodTSA = try TimeStampAuthority(chainPEM: own.certPEM + issued.caPEM, keyPEM: own.keyPEM, policy: Self.policy)
        let good = try goodTSA.respond(req.der)
        _ = try TimeStamp.verify(response: good, digest: digest, algorithm: .sha256, request: req, trustedPEM: issued.caPEM)
        let swapped = try TimeStamp.replacingSignerCertificate(in: good, with: noEKU.certPEM)
        let ekuMsg = refused { _ = try TimeStamp.verify(response: swapped, digest: digest, algorithm: .sha256, request: req, trustedPEM: issued.caPEM) }
        #expect(ekuMsg.contains("purpose"), "\(ekuMsg)")
        // Garbled responses.
        let garbled = refused { _ = try TimeStamp.verify(response: [0x30, 0x03, 0x02, 0x01], digest: digest, algorithm: .sha256, request: req, trustedPEM: issued.caPEM) }
        #expect(garbled.contains("TimeStampResp"), "\(garbled)")
        let rejected = refused { _ = try TimeStamp.verify(response: try tsa.respond([0x30, 0x00]), digest: digest, algorithm: .sha256, request: req, trustedPEM: issued.caPEM) }
        #expect(rejected.contains("did not grant"), "\(rejected)")
    }
}
