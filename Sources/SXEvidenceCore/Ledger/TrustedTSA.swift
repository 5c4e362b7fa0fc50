/// A time-stamp authority whose tokens the verifier checks: its URL (as recorded in timestamps.tsa_url)
/// and the file of its trusted certificates (PEM).
public struct TrustedTSA: Sendable, Hashable {
    public var url: String
    public var caPath: String

    public init(url: String, caPath: String) {
        self.url = url
        self.caPath = caPath
    }
}
