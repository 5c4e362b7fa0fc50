/// One-shot helpers for the Merkle tree and key IDs; each call uses its own context.
public enum Hashing {
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { digest(.sha256, bytes) }
    public static func sm3(_ bytes: [UInt8]) -> [UInt8] { digest(.sm3, bytes) }

    public static func digest(_ alg: DigestAlgorithm, _ bytes: [UInt8]) -> [UInt8] {
        let d = StreamingDigest(alg)
        d.update(bytes)
        return d.finish()
    }
}
