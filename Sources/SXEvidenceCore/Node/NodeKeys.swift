/// The node's two signing keys. Checkpoints carry one signature line for each.
public struct NodeKeys {
    public let ed25519: Ed25519Key
    public let sm2: SM2Key
    public let name: String

    public var signers: [NoteSigner] {
        [Ed25519NoteSigner(name: name, key: ed25519), SM2NoteSigner(name: name, key: sm2)]
    }

    public func verifiers() throws -> [NoteVerifier] {
        [try Ed25519NoteVerifier(name: name, publicKey: ed25519.publicKey),
         try SM2NoteVerifier(name: name, publicPoint: sm2.publicPoint)]
    }

    public func sign(_ cp: Checkpoint) throws -> SignedNote {
        try SignedNote.sign(text: cp.text, with: signers)
    }
}
