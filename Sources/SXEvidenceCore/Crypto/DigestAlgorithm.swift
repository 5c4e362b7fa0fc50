/// The digest algorithms of our formats.
public enum DigestAlgorithm: String, Sendable, CaseIterable {
    case sha256, sm3
}
