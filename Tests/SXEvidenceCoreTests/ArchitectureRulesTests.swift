import Foundation
import Testing

/// The house rules of ARCHITECTURE.md, checked on the source tree itself so that a change which
/// breaks one fails the suite: SQL only behind the storage boundary, one libcurl owner, each C
/// library reached from one place, no file over the size limit, messages in both languages.
@Suite struct ArchitectureRulesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every Swift file under Sources/, as (path relative to the root, text).
    static func sources() throws -> [(String, String)] {
        let base = root.appendingPathComponent("Sources").path
        let e = try #require(FileManager.default.enumerator(atPath: base))
        var out: [(String, String)] = []
        while let p = e.nextObject() as? String {
            guard p.hasSuffix(".swift") else { continue }
            out.append(("Sources/" + p, try String(contentsOfFile: base + "/" + p, encoding: .utf8)))
        }
        #expect(out.count > 50, "found only \(out.count) source files under \(base)")
        return out
    }

    static func files(matching pattern: String, in sources: [(String, String)]) throws -> Set<String> {
        let re = try NSRegularExpression(pattern: pattern)
        return Set(sources.filter { re.firstMatch(in: $0.1, range: NSRange($0.1.startIndex..., in: $0.1)) != nil }.map(\.0))
    }

    @Test func sqlLivesOnlyInTheStore() throws {
        let all = try Self.sources()
        let sql = try Self.files(matching: #"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE (TABLE|INDEX|TRIGGER))\b|sqlite3_"#, in: all)
        let outside = sql.filter { !$0.hasPrefix("Sources/SXEvidenceCore/Store/") }
        #expect(outside.isEmpty, "SQL outside Sources/SXEvidenceCore/Store/: \(outside.sorted())")
    }

    @Test func eachCLibraryHasOneOwner() throws {
        let all = try Self.sources()
        let curl = try Self.files(matching: #"curl_easy_init"#, in: all)
        #expect(curl.count == 1, "curl_easy_init in \(curl.sorted())")
        for (module, folder) in [("CSXCurl", "Sources/SXEvidenceCore/HTTP/"), ("CSXOpenSSL", "Sources/SXEvidenceCore/Crypto/OpenSSL/"),
                                 ("CSXSQLite", "Sources/SXEvidenceCore/Store/"), ("CSXSystem", "Sources/SXEvidenceCore/Support/FileSync.swift")] {
            let importers = try Self.files(matching: "import \(module)\\b", in: all)
            #expect(!importers.isEmpty, "nothing imports \(module): the rule would pass vacuously")
            let stray = importers.filter { !$0.hasPrefix(folder) }
            #expect(stray.isEmpty, "\(module) imported outside \(folder): \(stray.sorted())")
        }
        let silgen = try Self.files(matching: #"@_silgen_name"#, in: all)
        #expect(silgen.isEmpty, "C reached through @_silgen_name instead of a shim: \(silgen.sorted())")
    }

    @Test func noSourceFileIsOverTheLimit() throws {
        let long = try Self.sources().filter { $0.1.split(separator: "\n", omittingEmptySubsequences: false).count > 420 }.map(\.0)
        #expect(long.isEmpty, "files over 420 lines: \(long.sorted())")
    }

    @Test func everyMessageHasBothLanguages() throws {
        let all = try Self.sources()
        let empty = try Self.files(matching: #"\b(zh|en): ""[,)]"#, in: all)
        #expect(empty.isEmpty, "an empty zh or en message in \(empty.sorted())")
    }

    @Test func hashedDocumentsAreNotWrittenWithJSONSerialization() throws {
        let all = try Self.sources()
        let js = try Self.files(matching: #"JSONSerialization"#, in: all)
        #expect(js.isEmpty, "JSONSerialization in \(js.sorted()): signed or hashed documents use CanonicalJSON and the strict reader")
    }
}
