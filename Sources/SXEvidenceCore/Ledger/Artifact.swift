/// What the ledger records about one stored file.
public struct Artifact: Sendable, Hashable, Codable {
    public var name: String
    public var size: Int64
    public var sha256: String   // lowercase hex
    public var sm3: String      // lowercase hex

    public init(name: String, size: Int64, sha256: String, sm3: String) {
        self.name = name
        self.size = size
        self.sha256 = sha256
        self.sm3 = sm3
    }
}
