/// One row of `alerts` (a fork proof and what it is about), with the operator's acknowledgement
/// from `alert_acks` when there is one (sxevidence-consortium(5)).
public struct LedgerAlert: Sendable {
    public var id: Int64
    public var node: String
    public var kind: String
    public var detail: String
    public var proof: String?
    public var created: String
    public var acknowledged: String?    // the operator's note, once acknowledged
}
