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
