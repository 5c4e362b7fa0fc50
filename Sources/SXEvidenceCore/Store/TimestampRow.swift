/// One row of `timestamps` (sxevidence-timestamp(5), LEDGER TABLE).
public struct TimestampRow: Sendable {
    public var id: Int64
    public var subject: TimestampSubject
    public var algorithm: String
    public var digest: [UInt8]
    public var tsaURL: String
    public var status: TimestampStatus
    public var tokenSHA256: String?
    public var genTime: String?
    public var serial: String?
    public var error: String?
}
