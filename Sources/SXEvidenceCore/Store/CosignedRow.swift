/// One row of `cosigned`: a checkpoint of another member this node cosigned as a witness, with the
/// index of the anchor entry that holds the cosigned note (sxevidence-consortium(5)).
public struct CosignedRow: Sendable {
    public var origin: String
    public var size: Int64
    public var root: [UInt8]
    public var note: String
    public var anchorIndex: Int64?
    public var created: String
}
