/// Limits and switches for evidence fetching (`capture`, `live`).
public struct FetchOptions: Sendable {
    public var connectTimeoutMs = 15_000
    public var totalTimeoutMs = 120_000
    public var maxRedirects = 10
    public var maxSize: Int64 = 512 << 20
    /// A hop whose certificate does not verify is fetched again without verification and recorded so.
    public var allowInvalidTLS = false
    public var userAgent = "Mozilla/5.0 (X11; Linux x86_64) sxevidence/\(SXEvidence.version)"
    /// The CA file and client certificate hooks; verification is decided per hop (see `FetchJob`).
    public var tls = TLSOptions()

    /// --ca-file: trusted CAs instead of libcurl's default bundle.
    public var caBundle: String? {
        get { tls.caFile }
        set { tls.caFile = newValue }
    }

    public init() {}
}
