import Foundation
import Testing
@testable import SXEvidenceCore

/// The pieces under court bundles and WACZ, against outside implementations.
@Suite(.needs(.python3), .temporaryFolders) struct BundleCoreTests {
    static let venvPython = repoRoot.appendingPathComponent(".venv/bin/python").path

    /// URL keys equal those of the `surt` package (what pywb and ReplayWeb.page-era tools use).
    @Test(.needs(.venvPython, .surt)) func surtMatchesThePythonPackage() throws {
        let urls = ["http://127.0.0.1:35413/shop/gbk.html", "https://www.Example.com/a/b?x=1&a=2", "http://example.com/",
                    "http://shop.example.cn:8080/p?id=3#frag", "http://127.0.0.1:80/Shop/Gbk.HTML", "https://a.b.com:443/",
                    "http://A.com", "http://a.com/p?B=2&a=1&a=0", "http://a.com/dir/", "http://a.com/a%20b/", "http://a.com/%41",
                    "http://localhost:8080/x", "http://a.com/p?", "http://www2.example.org/index.html", "http://a.com/%7Euser/"]
        let script = "import sys, surt\nfor u in sys.argv[1:]: print(surt.surt(u))"
        let r = try runTool([Self.venvPython, "-c", script] + urls)
        #expect(r.status == 0, "\(r.err)")
        let expected = r.out.split(separator: "\n").map(String.init)
        for (u, e) in zip(urls, expected) { #expect(WACZExporter.surt(u) == e, "\(u)") }
    }

    /// Our ZIP is read back by Python's zipfile with every CRC right, and our reader reads Python's.
    @Test func zipRoundTripsWithPython() throws {
        let dir = tempDir("zip")
        let big = dir + "/big.bin"
        try Data(pseudo(3 << 20)).write(to: URL(fileURLWithPath: big))
        let w = try ZipWriter(path: dir + "/a.zip")
        try w.add(name: "dir/中文 名.txt", bytes: Array("你好\n".utf8))
        try w.add(name: "big.bin", file: big)
        try w.add(name: "empty", bytes: [])
        try w.finish()
        let py = try runTool(["python3", "-c", "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(z.testzip()); print(sorted(z.namelist())); print(z.read('dir/中文 名.txt').decode())", dir + "/a.zip"])
        #expect(py.out == "None\n['big.bin', 'dir/中文 名.txt', 'empty']\n你好\n\n", "\(py.out) \(py.err)")
        let r = try ZipReader(path: dir + "/a.zip")
        #expect(try r.digests("big.bin").sha256 == Hex.encode(Hashing.sha256(pseudo(3 << 20))))
        #expect(try r.checkedBytes("empty") == [])
        // CRC-32 agrees with zlib's.
        let crc = try runTool(["python3", "-c", "import zlib,sys; print(zlib.crc32(open(sys.argv[1],'rb').read()))", big])
        var c = CRC32()
        c.update(pseudo(3 << 20))
        #expect(crc.out.trimmingCharacters(in: .whitespacesAndNewlines) == String(c.value))
        // A stored ZIP written by Python reads here too.
        _ = try runTool(["python3", "-c", "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('x/y.txt', b'abc'); z.close()", dir + "/p.zip"])
        #expect(try ZipReader(path: dir + "/p.zip").checkedBytes("x/y.txt") == Array("abc".utf8))
        // Bytes hidden between entries, and a damaged CRC, are refused.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/p.zip")))
        let crcAt = 14
        bytes[crcAt] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/bad-crc.zip"))
        let badCRC = #expect(throws: EvidenceError.self) { try ZipReader(path: dir + "/bad-crc.zip").checkedBytes("x/y.txt") }
        #expect(badCRC?.code == .dataError, "\(String(describing: badCRC))")
        let padded = [UInt8](repeating: 0, count: 7) + [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/p.zip")))
        try Data(padded).write(to: URL(fileURLWithPath: dir + "/padded.zip"))
        let padError = #expect(throws: EvidenceError.self) { try ZipReader(path: dir + "/padded.zip") }
        #expect(padError?.code == .dataError, "\(String(describing: padError))")
    }

    func pseudo(_ n: Int) -> [UInt8] {
        var x: UInt64 = 88172645463325252
        return (0..<n).map { _ in x ^= x << 13; x ^= x >> 7; x ^= x << 17; return UInt8(truncatingIfNeeded: x) }
    }
}
