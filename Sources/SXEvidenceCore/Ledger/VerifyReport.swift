/// What `verify` found: each group of checks and every failure (up to the limit).
public struct VerifyReport: Sendable, Codable {
    public var checks: [VerifyCheck] = []
    public var failures: [VerifyFailure] = []
    public var ok: Bool { failures.isEmpty && checks.allSatisfy(\.ok) }
}
