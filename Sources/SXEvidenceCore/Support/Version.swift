public enum SXEvidence {
    public static let version = "0.1.0"

    /// "libcurl/7.88.1": the first word of curl_version(), without the build's feature list.
    public static var curlVersion: String {
        CurlEasy.libraryVersion.split(separator: " ").first.map(String.init) ?? "libcurl"
    }

    /// Versions of the C libraries actually loaded at run time.
    public static var libraryVersions: [String: String] {
        ["openssl": OpenSSL.version, "sqlite": SQLiteDatabase.libraryVersion, "libcurl": CurlEasy.libraryVersion]
    }
}
