/// One line of the report: a group of checks with the count it covered and the time it took.
public struct VerifyCheck: Sendable, Codable {
    public var name: String
    public var ok: Bool
    public var count: Int64
    public var seconds: Double
    public var detail: String
}
