import ArgumentParser
import Dispatch
import Foundation
import SXEvidenceCore

struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Record a live stream (HLS or HTTP-FLV) into WARC, every segment hashed and chained. 直播取证。",
        discussion: """
        Ctrl-C or SIGTERM ends the capture cleanly and commits what was captured. Exit 75 when the stream \
        stalled or failed (what was captured is still committed), 65 when the URL is not a stream.
        """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Playlist (.m3u8) or HTTP-FLV (.flv) URL.") var url: String
    @Option(name: .customLong("case"), help: "Case number. 案件编号。") var caseID: String
    @Option(help: "Officer ID (制作人). 执法人员编号。") var officer: String
    @Option(help: "Free-text note. 备注。") var note: String?
    @Option(help: "How long to record (e.g. 5m, 90s). 录制时长。") var duration: Seconds
    @Option(name: .customLong("snapshot-every"), help: "Commit an entry for what was captured so far this often. 定时固定。")
    var snapshotEvery: Seconds?
    @Option(help: "best, worst, or a variant NAME / RESOLUTION / BANDWIDTH. 码率选择。") var variant: String = "best"
    @Option(help: "Also capture the live room page through the web-capture path. 直播间页面。") var page: String?
    @Flag(name: .customLong("allow-invalid-tls"), help: "Record a stream whose certificate does not verify.") var allowInvalidTLS = false
    @Option(name: .customLong("ca-file"), help: "Trust the CA certificates in this PEM file.") var caFile: String?

    func run() throws {
        let c = global.console()
        try c.run {
            try Registrar.validate(caseID: caseID, officer: officer)
            try WebCapture.validate(url)
            let d = duration.value
            guard d <= 7 * 86400 else {
                throw usageError("--duration 不得超过 7 天", "--duration must be at most 7 days")
            }
            var every: Double?
            if let s = snapshotEvery {
                let e = s.value
                guard e <= 86400 else { throw usageError("--snapshot-every 不得超过 1 天", "--snapshot-every must be at most 1 day") }
                every = e
            }
            if let page { try WebCapture.validate(page) }
            let home = try NodeHome.open(global.homePath)
            let keys = try home.loadKeys()
            var pageID: String?
            if let page {
                let web = WebCapture(home: home, keys: keys)
                web.options.caBundle = caFile
                web.options.allowInvalidTLS = allowInvalidTLS
                web.requisites = true
                try web.run([CaptureRequest(url: page, caseID: caseID, officer: officer, note: note)]) { r in
                    pageID = r.entry.evidenceID
                    if !c.json { c.out("\(r.entry.evidenceID)\tpage\t\(r.status)\t\(r.url)") }
                }
            }
            let live = LiveCapture(home: home, keys: keys)
            live.options.caBundle = caFile
            live.options.allowInvalidTLS = allowInvalidTLS
            // Ctrl-C and SIGTERM end the recording cleanly; what was captured is committed.
            signal(SIGINT, SIG_IGN)
            signal(SIGTERM, SIG_IGN)
            let flag = live.stopFlag
            let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
                let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                s.setEventHandler { flag.set() }
                s.resume()
                return s
            }
            defer { sources.forEach { $0.cancel() } }
            var last: LiveSnapshot?
            try live.run(LiveRequest(url: url, caseID: caseID, officer: officer, note: note, duration: d, snapshotEvery: every,
                                     variant: variant, pageEvidenceID: pageID)) { snap in
                last = snap
                if c.json {
                    c.emit(LiveJSON(id: snap.entry.evidenceID, part: snap.part, segments: snap.segments, gaps: snap.gaps,
                                    chainHead: snap.chainHead, final: snap.final, outcome: snap.outcome, reason: snap.reason))
                } else {
                    c.out("\(snap.entry.evidenceID)\tpart \(snap.part)\t\(snap.segments) segments\t\(snap.gaps) gaps\t\(snap.final ? snap.outcome : "snapshot")")
                }
            }
            if let l = last, !c.json {
                c.warn("直播取证结束：\(l.reason ?? "")；共 \(l.segments) 个分片，\(l.gaps) 处缺口", "live capture ended: \(l.reason ?? ""); \(l.segments) segments, \(l.gaps) gaps")
            }
            stampLatestCheckpoint(c, home)
            if let l = last, l.outcome == "failed", l.segments == 0 {
                throw EvidenceError(.dataError, zh: "不是可录制的直播流：\(l.reason ?? "")", en: "not a recordable stream: \(l.reason ?? "")")
            }
            if let l = last, l.outcome != "ok" { throw ExitCode(75) }
        }
    }
}

/// One committed part of a live capture as `live --json` prints it.
struct LiveJSON: Encodable {
    let id: String, part: Int, segments: Int, gaps: Int, chainHead: String, final: Bool, outcome: String, reason: String?
}
