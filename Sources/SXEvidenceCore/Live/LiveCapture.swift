import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What an officer asked to record from a live stream.
public struct LiveRequest: Sendable {
    public var url: String
    public var caseID: String
    public var officer: String
    public var note: String?
    public var duration: Double
    public var snapshotEvery: Double?
    public var variant: String          // best, worst, or a NAME / RESOLUTION / BANDWIDTH
    public var pageEvidenceID: String?

    public init(url: String, caseID: String, officer: String, note: String?, duration: Double, snapshotEvery: Double?,
                variant: String, pageEvidenceID: String?) {
        self.url = url
        self.caseID = caseID
        self.officer = officer
        self.note = note
        self.duration = duration
        self.snapshotEvery = snapshotEvery
        self.variant = variant
        self.pageEvidenceID = pageEvidenceID
    }
}

/// One snapshot, once its entry and checkpoint are durable.
public struct LiveSnapshot: Sendable {
    public var entry: LedgerEntry
    public var part: Int
    public var segments: Int
    public var gaps: Int
    public var chainHead: String
    public var final: Bool
    public var outcome: String
    public var reason: String?
}

/// Live capture (`sxevidence live`, sxevidence-live(5)): HLS (RFC 8216) polled by the §6.3.4 reload
/// rules with segments fetched while polling goes on, or one HTTP-FLV response cut at the duration.
/// Everything received goes into WARC parts; each snapshot commits a part, a cumulative manifest with
/// the segment hash chain, and a ledger entry, so a crash loses at most one interval.
public final class LiveCapture {
    public let home: NodeHome
    let keys: NodeKeys
    public var options = FetchOptions()
    /// Set from a signal handler: ends the capture cleanly at the next turn.
    public let stopFlag = StopFlag()

    /// Set from a signal handler's queue, read by the capture loop.
    public final class StopFlag: Sendable {
        private let value = Atomic<Bool>(false)
        public init() {}
        public func set() { value.store(true, ordering: .releasing) }
        public var isSet: Bool { value.load(ordering: .acquiring) }
    }

    public init(home: NodeHome, keys: NodeKeys) {
        self.home = home
        self.keys = keys
    }

    struct SegmentRecord {
        var epoch: Int
        var sequence: Int64
        var uri: String
        var range: String?
        var duration: Double
        var discontinuity: Bool
        var discontinuitySequence: Int64
        var programDateTime: String?
        var received: String
        var status: Int
        var size: Int64
        var sha256: String
        var sm3: String
        var error: String?
        var keyURI: String?
        var part: Int
    }

    struct Gap {
        var epoch: Int
        var from: Int64
        var to: Int64
        var reason: String
    }

    enum JobKind { case playlist, segment(HLSPlaylist.Segment, Int), key, map(String), flv }

    // State of one run.
    var request: LiveRequest!
    var writer: WARCWriter!
    var part = 0
    var parts: [Artifact] = []
    var partPath = ""
    var records: [SegmentRecord] = []
    var gaps: [Gap] = []
    var playlists: [(String, Int, String)] = []   // (url, status, sha256) of every revision received
    var fetchedAux: [String: (Int, String)] = [:] // key / init segment URI (+range) → (status, sha256)
    var variantChoice: [String: String] = [:]
    var mediaURL: String?
    var lastSeq: Int64?
    var epoch = 0
    var lastPlaylistSHA: String?
    var nextReload = Date.distantPast
    var target = 6.0
    var lastNewSegment = Date()
    var endList = false
    var stopReason: String?
    var outcome = "ok"
    var jobs: [Int: JobKind] = [:]
    var nextTag = 0
    var pendingSegments = 0
    var playlistRedirects = 0
    /// Segments requested but not yet answered, by (epoch, sequence): any left when the recording
    /// stops become gaps, so the manifest still accounts for every segment that was listed.
    var outstanding: [String: (Int, Int64)] = [:]
    /// The URI (and range) each (epoch, sequence) was listed with, to tell a stale playlist copy from a restart.
    var listedAs: [String: String] = [:]
    var lastReloadAnswered = Date()
    var flvHeader: [String: CanonicalValue]?
    var started = ""
    /// The newest segment received (a kept copy), for the still frame of the next snapshot.
    var latestSegment: (path: String, seg: HLSPlaylist.Segment)?
    var keyBytes: [String: [UInt8]] = [:]
    var mapBytes: [String: [UInt8]] = [:]
    var frames: [CanonicalValue] = []
    public var ffmpeg: String? = LiveCapture.findFFmpeg()

    static func findFFmpeg() -> String? { Executables.find(["ffmpeg"]) }

    public func run(_ req: LiveRequest, committed: @escaping (LiveSnapshot) throws -> Void) throws {
        try WebCapture.validate(req.url)
        request = req
        started = UTCTime.now()
        lastReloadAnswered = Date()
        home.store.removeStaleTemporaries()
        try openPart()
        let begin = Date()
        let deadline = begin.addingTimeInterval(req.duration)
        var nextSnapshot = req.snapshotEvery.map { begin.addingTimeInterval($0) }
        let isFLV = req.url.lowercased().split(separator: "?").first?.hasSuffix(".flv") == true
        let fetcher = Fetcher(options: options, tmpDir: home.store.tmpDir, concurrency: 4)
        var initial: [FetchJob] = []
        if isFLV {
            initial.append(job(req.url, .flv, timeoutMs: Int(req.duration * 1000)))
        } else {
            initial.append(job(req.url, .playlist))
            nextReload = .distantFuture
        }
        var fatal: Error?
        do {
            try fetcher.run(initial, completed: { job, ex in
                let kind = self.jobs.removeValue(forKey: job.tag)!
                defer { if let p = ex.bodyPath { unlink(p) } }
                return try self.completed(kind, ex)
            }, tick: {
                let now = Date()
                if let n = nextSnapshot, now >= n, !isFLV {
                    try committed(try self.snapshot(final: false))
                    nextSnapshot = n.addingTimeInterval(req.snapshotEvery!)
                }
                if self.stopFlag.isSet {
                    self.stopReason = self.stopReason ?? "stopped by signal"
                    fetcher.cutOnStop = isFLV   // an endless FLV response is cut now; short segments finish
                    return nil
                }
                if now >= deadline { self.stopReason = self.stopReason ?? "duration reached"; return nil }
                if isFLV { return self.stopReason == nil ? [] : nil }
                if self.stopReason != nil { return nil }
                if self.endList {
                    if self.pendingSegments == 0 { self.stopReason = "EXT-X-ENDLIST reached"; return nil }
                    return []
                }
                // A stall is judged from reloads that completed (see completed(.playlist)); this only
                // catches a server that stops answering playlists altogether.
                if now.timeIntervalSince(self.lastReloadAnswered) > 6 * self.target + 10 {
                    self.stopReason = "stalled: no playlist answer for \(Int(6 * self.target + 10)) s"
                    self.outcome = "stalled"
                    return nil
                }
                if now >= self.nextReload, let m = self.mediaURL {
                    self.nextReload = .distantFuture   // set again when this reload completes
                    var j = self.job(m, .playlist)
                    j.urgent = true
                    return [j]
                }
                return []
            })
        } catch {
            fatal = error
            outcome = "failed"
            stopReason = (error as? EvidenceError)?.en ?? "\(error)"
        }
        for (_, (ep, seq)) in outstanding.sorted(by: { ($0.value.0, $0.value.1) < ($1.value.0, $1.value.1) }) {
            gaps.append(Gap(epoch: ep, from: seq, to: seq,
                            reason: "not fetched: the recording stopped (\(stopReason ?? "stopped")) before this segment was received"))
        }
        outstanding.removeAll()
        // Commit what was captured, whatever ended the capture.
        if !records.isEmpty || !playlists.isEmpty || isFLV || fatal == nil {
            try committed(try snapshot(final: true))
        }
        if let fatal { throw fatal }
    }

    func job(_ url: String, _ kind: JobKind, range: String? = nil, timeoutMs: Int? = nil) -> FetchJob {
        nextTag += 1
        jobs[nextTag] = kind
        return FetchJob(url: url, tag: nextTag, verifyTLS: !options.allowInvalidTLS, range: range, timeoutMs: timeoutMs)
    }
}
