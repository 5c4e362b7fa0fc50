// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "sxevidence",
    products: [
        .executable(name: "sxevidence", targets: ["sxevidence"]),
        .library(name: "SXEvidenceCore", targets: ["SXEvidenceCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        // C libraries from Debian, each behind one small system-library module with prefixed names.
        .systemLibrary(name: "CSXCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSXOpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSXSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // glibc calls declared only under _GNU_SOURCE (syncfs, sync_file_range), as static inline shims.
        .systemLibrary(name: "CSXSystem"),
        .target(
            name: "SXEvidenceCore",
            dependencies: [
                "CSXCurl", "CSXOpenSSL", "CSXSQLite", "CSXSystem",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The node server (TSA today; sync and witnessing later), testable without a port.
        .target(
            name: "SXEvidenceServer",
            dependencies: [
                "SXEvidenceCore",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "sxevidence",
            dependencies: [
                "SXEvidenceCore",
                "SXEvidenceServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Measures what scripts/bench reports that a command line cannot time (proof latency in-process).
        .executableTarget(name: "sxbench", dependencies: ["SXEvidenceCore"]),
        .testTarget(name: "SXEvidenceCoreTests", dependencies: ["SXEvidenceCore"]),
        .testTarget(name: "SXEvidenceCLITests", dependencies: ["SXEvidenceCore"]),
        // The node server's router driven in-process, with no port (an embedded NIO channel).
        .testTarget(
            name: "SXEvidenceServerTests",
            dependencies: [
                "SXEvidenceCore", "SXEvidenceServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
    ]
)
