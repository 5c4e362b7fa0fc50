/// One problem found by `verify`, precise enough to act on: which entry, which field, what was expected.
public struct VerifyFailure: Sendable, Codable {
    public var evidenceID: String?
    public var field: String
    public var expected: String
    public var found: String
    public var zh: String
    public var en: String

    public func message(_ lang: Language) -> String { lang == .zh ? zh : en }
}

/// One line of the report: a group of checks with the count it covered and the time it took.
public struct VerifyCheck: Sendable, Codable {
    public var name: String
    public var ok: Bool
    public var count: Int64
    public var seconds: Double
    public var detail: String
}

public struct VerifyReport: Sendable, Codable {
    public var checks: [VerifyCheck] = []
    public var failures: [VerifyFailure] = []
    public var ok: Bool { failures.isEmpty && checks.allSatisfy(\.ok) }
}
