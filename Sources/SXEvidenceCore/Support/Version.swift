internal import CSXCurl

public enum SXEvidence {
    public static let version = "0.1.0"

    /// Versions of the C libraries actually loaded at run time.
    public static var libraryVersions: [String: String] {
        ["openssl": OpenSSL.version, "sqlite": SQLiteDatabase.libraryVersion, "libcurl": String(cString: sx_curl_version())]
    }
}
