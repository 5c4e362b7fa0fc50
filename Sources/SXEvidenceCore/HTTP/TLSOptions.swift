/// The TLS settings every request carries, whoever sends it (capture, node client, TSA client).
/// The defaults are the safe ones: the peer's certificate chain and its name are both verified
/// against libcurl's CA bundle.
public struct TLSOptions: Sendable, Equatable {
    /// PEM file of trusted CAs; nil: libcurl's default bundle (`defaultCAFile`).
    public var caFile: String?
    public var verifyPeer = true
    public var verifyHost = true
    /// A client certificate and its key (PEM), for peers that require one. Plumbed through to
    /// libcurl (CURLOPT_SSLCERT, CURLOPT_SSLKEY); nothing sets them yet.
    public var clientCertFile: String?
    public var clientKeyFile: String?

    public init(caFile: String? = nil, verifyPeer: Bool = true, verifyHost: Bool = true,
                clientCertFile: String? = nil, clientKeyFile: String? = nil) {
        self.caFile = caFile
        self.verifyPeer = verifyPeer
        self.verifyHost = verifyHost
        self.clientCertFile = clientCertFile
        self.clientKeyFile = clientKeyFile
    }

    /// Both checks on: what `HTTPResponse.TLSInfo.verified` can be true for.
    public var verifies: Bool { verifyPeer && verifyHost }

    /// Where libcurl looks for trusted CAs when `caFile` is nil (recorded in the environment record).
    public static var defaultCAFile: String { CurlEasy.defaultCAFile }
}
