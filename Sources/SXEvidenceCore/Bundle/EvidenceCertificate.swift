import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// 电子数据存证证书 (evidence certificate), Chinese first, with the fields of an extraction record
/// (电子数据提取笔录). Plain HTML with inline CSS and an embedded thumbnail, so it renders anywhere
/// and can be printed to PDF by headless Chromium.
struct EvidenceCertificate {
    let home: NodeHome
    let entry: LedgerEntry
    let checkpoint: Ledger.StoredCheckpoint
    let cosignedNote: String
    let anchor: (entry: LedgerEntry, proof: TlogProof)?
    let stamps: [Ledger.TimestampRow]
    let stampSize: Int64
    let policy: ConsortiumPolicy

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    func row(_ zh: String, _ en: String, _ value: String, mono: Bool = false) -> String {
        "<tr><th>\(Self.esc(zh))<br><small>\(Self.esc(en))</small></th><td\(mono ? " class=\"m\"" : "")>\(Self.esc(value))</td></tr>\n"
    }

    /// The capture manifest, when the entry has one (web and live captures, any manifest format
    /// version), read with the strict reader: it is hashed evidence.
    func manifest() -> MiniJSON? {
        guard let a = entry.artifacts.first(where: { $0.name == "manifest.json" || $0.name == "live-manifest.json" }),
              let bytes = try? POSIXFile.readAll(home.store.path(forSHA256: a.sha256)),
              let m = try? MiniJSON.parse(bytes), m.members != nil else { return nil }
        return m
    }

    /// A PNG to show: a registered image or frame, else the viewport screenshot kept in the capture's
    /// WARC (its resource record, found by the offset the manifest lists).
    func thumbnail(_ m: MiniJSON?) -> (String, [UInt8])? {
        if let png = entry.artifacts.first(where: { $0.name.hasSuffix(".png") && $0.size <= 4 << 20 }),
           let bytes = try? POSIXFile.readAll(home.store.path(forSHA256: png.sha256)) {
            return (png.name, bytes)
        }
        guard let warc = entry.artifacts.first(where: { $0.name == "capture.warc.gz" }),
              let recs = m?["warc_records"]?.array,
              let r = recs.first(where: { $0["uri"]?.string == "urn:sxevidence:screenshot-viewport.png" }),
              let off = r["offset"]?.int, let len = r["length"]?.int, off >= 0, len > 0, len < 8 << 20 else { return nil }
        let fd = open(home.store.path(forSHA256: warc.sha256), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var member = [UInt8](repeating: 0, count: Int(len))
        guard member.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, Int(len), off_t(off)) }) == Int(len),
              let record = Decoding.gunzip(member), let sep = record.firstRange(of: [0x0D, 0x0A, 0x0D, 0x0A]) else { return nil }
        var block = Array(record[sep.upperBound...])
        if block.count >= 4 && Array(block.suffix(4)) == [0x0D, 0x0A, 0x0D, 0x0A] { block.removeLast(4) }   // record terminator
        guard block.starts(with: [0x89, 0x50, 0x4E, 0x47]) else { return nil }
        return ("screenshot-viewport.png", block)
    }

    func html() throws -> String {
        let m = manifest()
        let node = policy.member(entry.node)
        let city = policy.cityMember
        var h = """
        <!DOCTYPE html>
        <html lang="zh-CN"><head><meta charset="utf-8">
        <title>电子数据存证证书 \(Self.esc(entry.evidenceID))</title>
        <style>
        body{font-family:"WenQuanYi Zen Hei","Noto Sans CJK SC",sans-serif;margin:2em;color:#111}
        h1{text-align:center;font-size:1.6em;margin-bottom:0}
        h2{font-size:1.1em;border-bottom:2px solid #8b0000;margin-top:1.4em}
        .sub{text-align:center;color:#555;margin-top:.2em}
        table{border-collapse:collapse;width:100%}
        th{width:11em;text-align:left;vertical-align:top;background:#f4f0ea;padding:4px 6px;border:1px solid #ccc}
        td{padding:4px 6px;border:1px solid #ccc;word-break:break-all}
        .m{font-family:monospace;font-size:.85em;white-space:pre-wrap}
        small{color:#666;font-weight:normal}
        img{max-width:480px;border:1px solid #999}
        </style></head><body>
        <h1>电子数据存证证书</h1>
        <p class="sub">Electronic Evidence Preservation Certificate · 绍兴市市场监管 市监链</p>
        <h2>证据信息 / Evidence</h2><table>

        """
        h += row("证据编号", "Evidence ID", entry.evidenceID, mono: true)
        h += row("案件编号", "Case", entry.caseID)
        h += row("取证人员", "Officer", entry.officer)
        h += row("取证节点", "Node", "\(node?.name ?? "") \(entry.node)")
        h += row("证据类型", "Kind", entry.kind)
        if let n = entry.note { h += row("备注", "Note", n) }
        h += row("登记时间（账本）", "Ledger time (UTC)", entry.time)
        if let m {
            if let u = m["url"]?.string { h += row("网址", "URL", u, mono: true) }
            if let u = m["final_url"]?.string { h += row("最终网址", "Final URL", u, mono: true) }
            if let s = m["status"]?.int { h += row("HTTP 状态", "HTTP status", String(s)) }
            if let s = m["start"]?.string { h += row("取证开始", "Capture start (UTC)", s) }
            if let s = m["end"]?.string { h += row("取证结束", "Capture end (UTC)", s) }
            let ex = m["exchanges"]?.array ?? []
            // The exchange that delivered the final page (not a requisite fetched after it).
            let finalURL = m["final_url"]?.string ?? m["url"]?.string
            if let last = ex.last(where: { $0["url"]?.string == finalURL }) ?? ex.first {
                if let ip = last["ip"]?.string { h += row("服务器 IP", "Server IP", "\(ip)\(last["port"]?.int.map { ":\($0)" } ?? "")", mono: true) }
                if let subj = last["tls_subject"]?.string { h += row("服务器证书主体", "TLS certificate subject", subj) }
                if let iss = last["tls_issuer"]?.string { h += row("证书签发者", "TLS certificate issuer", iss) }
                if let v = last["tls_verified"]?.string { h += row("证书验证", "TLS verified", v) }
            }
        }
        h += "</table>\n<h2>完整性校验值 / Integrity values</h2><table>\n"
        for a in entry.artifacts {
            h += row(a.name, "\(a.size) bytes", "SHA-256 \(a.sha256)\nSM3 \(a.sm3)", mono: true)
        }
        h += "</table>\n"
        if let (name, bytes) = thumbnail(m) {
            h += "<h2>截图缩略 / Screenshot</h2><p><img alt=\"\(Self.esc(name))\" src=\"data:image/png;base64,\(Base64.encode(bytes))\"></p>\n"
        }
        let cp = try Checkpoint.parse(text: try SignedNote.parse(checkpoint.note).text)
        // The time of the city's cosignature, read only from a line that verifies.
        let cn = try SignedNote.parse(cosignedNote)
        let cosTime = try city.flatMap { try $0.cosignatureVerifier().check(cn.signatures, checkpointText: cn.text) }.flatMap { $0.ok ? $0.time : nil }
        h += "<h2>账本与锚定 / Ledger and anchor</h2><table>\n"
        h += row("账本序号", "Ledger index", "\(entry.index)")
        h += row("叶哈希", "Leaf hash (SHA-256)", Hex.encode(entry.leafHash), mono: true)
        h += row(anchor == nil ? "检查点" : "县级检查点", anchor == nil ? "Checkpoint" : "County checkpoint", "\(cp.origin) size \(cp.size) root \(Hex.encode(cp.root))", mono: true)
        h += row("检查点签名", "Checkpoint signatures", "Ed25519 + SM2 (GB/T 32918), \(node?.origin ?? entry.node)")
        if let t = cosTime {
            h += row("市级联署", "City cosignature", "\(city?.origin ?? "") · \(UTCTime.format(Date(timeIntervalSince1970: TimeInterval(t)))) (C2SP tlog-cosignature, Ed25519 + SM2)")
        }
        if let anchor {
            let acp = try Checkpoint.parse(text: try SignedNote.parse(anchor.proof.checkpointNote).text)
            h += row("市级锚定条目", "City anchor entry", "\(anchor.entry.evidenceID) · index \(anchor.entry.index) · \(anchor.entry.time)", mono: true)
            h += row("市级检查点", "City checkpoint", "\(acp.origin) size \(acp.size) root \(Hex.encode(acp.root))", mono: true)
        } else {
            h += row("市级锚定", "City anchor", "本条目即在市级账本中 / the entry is in the city's own log")
        }
        h += "</table>\n<h2>可信时间 / Trusted time (RFC 3161)</h2><table>\n"
        if stamps.isEmpty { h += row("时间戳", "Time stamps", "无 / none") }
        for t in stamps {
            var gen = t.genTime ?? ""
            if let tok = t.tokenSHA256, let resp = try? POSIXFile.readAll(home.store.path(forSHA256: tok)), let info = try? TimeStamp.info(response: resp) {
                gen = "\(info.genTime) · serial \(info.serial)" + (info.signer.map { " · \($0)" } ?? "")
            }
            h += row("时间戳（\(t.algorithm)）", "checkpoint \(stampSize), \(t.tsaURL)", gen)
        }
        h += "</table>\n<h2>电子数据提取笔录要素 / Extraction record</h2><table>\n"
        h += row("提取方法", "Method", entry.method)
        h += row("提取时间", "Time", m?["start"]?.string.map { "\($0) – \(m?["end"]?.string ?? "")" } ?? entry.time)
        h += row("提取人", "Made by", entry.officer)
        h += row("提取工具", "Tool", "sxevidence \(SXEvidence.version)")
        h += row("提取环境", "Environment", m.map { "environment record SHA-256 \($0["environment_sha256"]?.string ?? "-") (in the WARC); node \(entry.node)" } ?? "node \(entry.node)")
        h += row("完整性校验", "Integrity", "SHA-256 + SM3 of every file (above); ledger leaf \(Hex.encode(entry.leafHash))")
        h += """
        </table>
        <h2>核验方法 / How to verify</h2>
        <p>用 <code>sxevidence verify 证据包.zip --policy 联盟策略</code> 离线核验；或按手册页 sxevidence-bundle(5)，
        仅用 Python 标准库与 openssl 命令独立核验（如 scripts/verify-bundle.py）。本证书仅为摘要，以证据包中的签名数据为准。</p>
        <p>Verify offline with <code>sxevidence verify BUNDLE.zip --policy POLICY</code>, or independently from the man page
        sxevidence-bundle(5) with the Python standard library and openssl (e.g. scripts/verify-bundle.py). This certificate
        summarises; the signed data in the bundle is authoritative.</p>
        </body></html>

        """
        return h
    }

    /// Render HTML to PDF with headless Chromium; nil when none is installed or it fails.
    static func renderPDF(html: String, browser: String?, tmpDir: String) -> [UInt8]? {
        guard let b = ScreenshotTaker.find(browser) else { return nil }
        let dir = tmpDir.hasPrefix("/") ? tmpDir : FileManager.default.currentDirectoryPath + "/" + tmpDir
        let base = "\(dir)/\(getpid())-cert-\(UInt32.random(in: 0..<UInt32.max))"
        let htmlPath = base + ".html", pdfPath = base + ".pdf"
        defer { unlink(htmlPath); unlink(pdfPath) }
        guard (try? POSIXFile.writeAtomically(htmlPath, Array(html.utf8))) != nil else { return nil }
        guard b.printPDF(url: "file://" + htmlPath, out: pdfPath) else { return nil }
        return try? POSIXFile.readAll(pdfPath)
    }
}
