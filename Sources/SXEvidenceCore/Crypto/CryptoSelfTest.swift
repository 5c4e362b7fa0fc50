/// Known-answer tests run before `verify` trusts its own cryptography.
public enum CryptoSelfTest {
    public struct Result: Sendable {
        public var name: String
        public var ok: Bool
    }

    public static func run() -> [Result] {
        var out: [Result] = []
        func check(_ name: String, _ body: () throws -> Bool) {
            out.append(Result(name: name, ok: (try? body()) ?? false))
        }
        check("SHA-256 (FIPS 180-2 \"abc\")") {
            Hex.encode(Hashing.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        }
        check("SM3 (GB/T 32905 A.1 \"abc\")") {
            Hex.encode(Hashing.sm3(Array("abc".utf8))) == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        }
        check("SM3 (GB/T 32905 A.2, 64 bytes)") {
            Hex.encode(Hashing.sm3(Array(String(repeating: "abcd", count: 16).utf8)))
                == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        }
        check("Ed25519 (RFC 8032 §7.1 test 1)") {
            let k = try Ed25519Key.fromSeed(Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")!)
            let sig = try k.sign([])
            let want = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
            let pub = try Ed25519Key.fromPublic(k.publicKey)
            return Hex.encode(k.publicKey) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
                && Hex.encode(sig) == want && pub.verify(sig, message: []) && !pub.verify(sig, message: [0])
        }
        check("SM2 (GM/T 0003.5 signature example, ID 1234567812345678)") {
            let point = Hex.decode("0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13")!
            let sig = Hex.decode("3046022100f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3022100b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa")!
            let k = try SM2Key.fromPublicPoint(point)
            let msg = Array("message digest".utf8)
            return k.verify(sig, message: msg) && !k.verify(sig, message: Array("message digesT".utf8))
        }
        check("SM2 sign/verify round trip") {
            let k = try SM2Key.generate()
            let msg = Array("sxevidence".utf8)
            let sig = try k.sign(msg)
            let pub = try SM2Key.fromPublicPoint(k.publicPoint)
            return pub.verify(sig, message: msg) && !pub.verify(sig, message: msg + [0])
        }
        return out
    }

    /// Throws an internal error naming every failed test.
    public static func require() throws {
        let failed = run().filter { !$0.ok }.map(\.name)
        if !failed.isEmpty {
            let list = failed.joined(separator: ", ")
            throw EvidenceError.internalError(zh: "密码自检失败，不能信任本机的校验结果：\(list)",
                                en: "cryptographic self-test failed; results on this machine cannot be trusted: \(list)")
        }
    }
}
