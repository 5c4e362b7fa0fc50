import Foundation

/// c2sp.org/tlog-cosignature: a witness's timestamped statement that it checked a checkpoint's
/// consistency. Ed25519 is the C2SP type 0x04 (`cosignature/v1`); the SM2-SM3 companion line is
/// ours, under the signed-note 0xff escape (sxevidence-consortium(5), COSIGNATURES).
public enum Cosignature {
    public static let ed25519Type: [UInt8] = [0x04]
    public static let sm2Type: [UInt8] = [0xFF] + Array("sxevidence/sm2-sm3-cosignature/v1".utf8)

    /// "cosignature/v1\ntime T\n" followed by the checkpoint note body (text only, no signatures).
    public static func message(time: UInt64, checkpointText: String) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n".utf8) + Array(checkpointText.utf8)
    }

    static func be64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    /// One line per algorithm, as returned by tlog-witness add-checkpoint.
    public static func sign(checkpointText: String, witness: NodeKeys, time: UInt64) throws -> [SignedNote.Signature] {
        let msg = message(time: time, checkpointText: checkpointText)
        let edID = NoteKeyID.compute(name: witness.name, type: ed25519Type, publicKey: witness.ed25519.publicKey)
        let smID = NoteKeyID.compute(name: witness.name, type: sm2Type, publicKey: witness.sm2.publicPoint)
        return [SignedNote.Signature(name: witness.name, keyID: edID, signature: be64(time) + (try witness.ed25519.sign(msg))),
                SignedNote.Signature(name: witness.name, keyID: smID, signature: be64(time) + (try witness.sm2.sign(msg)))]
    }

    /// A witness's two public keys, as listed in the consortium policy.
    public struct Verifier: Sendable {
        public let name: String
        public let ed25519: Ed25519Key
        public let sm2: SM2Key
        public let edKeyID: UInt32
        public let smKeyID: UInt32

        public init(name: String, ed25519Public: [UInt8], sm2Point: [UInt8]) throws {
            self.name = name
            ed25519 = try Ed25519Key.fromPublic(ed25519Public)
            sm2 = try SM2Key.fromPublicPoint(sm2Point)
            edKeyID = NoteKeyID.compute(name: name, type: Cosignature.ed25519Type, publicKey: ed25519Public)
            smKeyID = NoteKeyID.compute(name: name, type: Cosignature.sm2Type, publicKey: sm2Point)
        }

        public struct Result: Sendable {
            public var ed25519: Bool
            public var sm2: Bool
            public var time: UInt64?
            public var ok: Bool { ed25519 && sm2 }
        }

        /// Both lines must be present and valid for the same checkpoint text.
        public func check(_ sigs: [SignedNote.Signature], checkpointText: String) -> Result {
            var r = Result(ed25519: false, sm2: false, time: nil)
            for s in sigs where s.name == name && s.signature.count > 8 {
                let t = s.signature.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                guard t > 0, t < UInt64(Int64.max) else { continue }
                let msg = Cosignature.message(time: t, checkpointText: checkpointText)
                let sig = Array(s.signature.dropFirst(8))
                if s.keyID == edKeyID, sig.count == 64, ed25519.verify(sig, message: msg) { r.ed25519 = true; r.time = t }
                if s.keyID == smKeyID, sm2.verify(sig, message: msg) { r.sm2 = true; r.time = r.time ?? t }
            }
            return r
        }
    }
}
