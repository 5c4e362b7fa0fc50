import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension LiveCapture {
    func openPart() throws {
        part += 1
        partPath = "\(home.store.tmpDir)/\(getpid())-live-\(UInt32.random(in: 0...UInt32.max))-\(part).warc.gz"
        writer = try WARCWriter(path: partPath)
        let info = warcFields([
            ("software", "sxevidence/\(SXEvidence.version) (\(SXEvidence.curlVersion))"),
            ("format", "WARC File Format 1.1"),
            ("operator", request.officer),
            ("description", "live capture of \(request.url); case \(request.caseID); node \(home.config.nodeID); part \(part)"),
        ])
        try writer.write(type: "warcinfo", date: UTCTime.now(), uri: nil, fields: [("Content-Type", "application/warc-fields")],
                         head: info, blockSHA256: Hashing.sha256(info))
    }

    func completed(_ kind: JobKind, _ ex: HTTPExchange) throws -> [FetchJob] {
        try writer.writeExchange(ex)
        let sha = Hex.encode(ex.bodySHA256)
        switch kind {
        case .flv:
            stopReason = stopReason ?? (ex.truncated == "time" ? "duration reached" : "the FLV response ended")
            if let p = ex.bodyPath, var head = try? POSIXFile.readPrefix(p, 64) {
                // A chunked response starts with a chunk-size line; the FLV header follows it.
                if ex.header("transfer-encoding")?.lowercased().contains("chunked") == true,
                   let nl = head.firstIndex(of: 0x0A) { head = Array(head[(nl + 1)...]) }
                let n = head.count
                if n >= 9 {
                    flvHeader = ["signature": .string(String(decoding: head[0..<3], as: UTF8.self)), "version": .int(Int64(head[3])),
                                 "has_audio": .int(Int64((head[4] >> 2) & 1)), "has_video": .int(Int64(head[4] & 1)),
                                 "header_size": .int(Int64(head[5]) << 24 | Int64(head[6]) << 16 | Int64(head[7]) << 8 | Int64(head[8]))]
                }
            }
            let isFLV = flvHeader?["signature"].map({ if case .string("FLV") = $0 { return true }; return false }) == true
            if ex.responseHead.isEmpty || !(200...299).contains(ex.status) {
                outcome = "failed"; stopReason = ex.error ?? "HTTP \(ex.status)"
            } else if !isFLV {
                outcome = "failed"; stopReason = "not an FLV stream"
            } else {
                records.append(SegmentRecord(epoch: 0, sequence: 0, uri: ex.url, range: nil, duration: 0, discontinuity: false,
                                             discontinuitySequence: 0, programDateTime: nil, received: ex.finished, status: ex.status,
                                             size: ex.bodySize, sha256: sha, sm3: Hex.encode(ex.bodySM3),
                                             error: ex.truncated == "time" ? nil : ex.error, keyURI: nil, part: part))
            }
            return []
        case .key, .map:
            var id = ex.url
            if case .map(let mapID) = kind { id = mapID }
            fetchedAux[id] = (ex.status, sha)
            if (ex.status == 200 || ex.status == 206), let p = ex.bodyPath, ex.bodySize <= 1 << 20, let b = try? POSIXFile.readAll(p) {
                if case .key = kind { keyBytes[id] = b } else { mapBytes[id] = b }
            }
            if ex.status != 200 && ex.status != 206 {
                gaps.append(Gap(epoch: epoch, from: -1, to: -1, reason: "could not fetch \(ex.url): \(ex.error ?? "HTTP \(ex.status)")"))
            }
            return []
        case .segment(let seg, let ep):
            pendingSegments -= 1
            outstanding.removeValue(forKey: "\(ep):\(seg.sequence)")
            let ok = ex.status == 200 || ex.status == 206
            if ok, ffmpeg != nil, let p = ex.bodyPath, latestSegment.map({ $0.seg.sequence <= seg.sequence }) ?? true {
                // Keep a copy of the newest segment for the next still frame (the body itself is removed).
                let keep = p + ".frame"
                unlink(keep)
                if link(p, keep) == 0 {
                    if let old = latestSegment { unlink(old.path) }
                    latestSegment = (keep, seg)
                }
            }
            records.append(SegmentRecord(epoch: ep, sequence: seg.sequence, uri: seg.uri, range: seg.range?.curlRange,
                                         duration: seg.duration, discontinuity: seg.discontinuity, discontinuitySequence: seg.discontinuitySequence,
                                         programDateTime: seg.programDateTime, received: ex.finished, status: ex.status, size: ex.bodySize,
                                         sha256: sha, sm3: Hex.encode(ex.bodySM3),
                                         error: ok ? nil : (ex.error ?? "HTTP \(ex.status)"), keyURI: seg.key?.uri, part: part))
            return []
        case .playlist:
            playlists.append((ex.url, ex.status, sha))
            if ex.isRedirect, let loc = ex.location, let u = URL(string: loc, relativeTo: URL(string: ex.url))?.absoluteURL {
                playlistRedirects += 1
                guard playlistRedirects <= options.maxRedirects else {
                    return playlistFailed("playlist \(ex.url): too many redirects", fatalIfFirst: true)
                }
                return [job(u.absoluteString, .playlist)]
            }
            playlistRedirects = 0
            // Parsed from the decoded view (chunked, gzip); what is stored stays as received.
            guard ex.status == 200, ex.error == nil, let bytes = Decoding.view(of: ex) else {
                return playlistFailed("playlist \(ex.url): \(ex.error ?? (ex.status == 200 ? "undecodable body" : "HTTP \(ex.status)"))")
            }
            let parsed: HLSPlaylist
            do {
                parsed = try HLSPlaylist.parse(bytes, base: ex.url)
            } catch let e as EvidenceError {
                return playlistFailed(e.en, fatalIfFirst: true)
            }
            lastReloadAnswered = Date()
            switch parsed {
            case .master(let variants):
                let chosen = choose(variants)
                variantChoice = ["asked": request.variant, "chosen": chosen.uri, "bandwidth": String(chosen.bandwidth),
                                 "resolution": chosen.resolution ?? "", "offered": variants.map { "\($0.bandwidth)@\($0.uri)" }.joined(separator: " ")]
                mediaURL = chosen.uri
                lastNewSegment = Date()
                return [job(chosen.uri, .playlist)]
            case .media(let m):
                mediaURL = mediaURL ?? ex.url
                target = m.targetDuration
                let changed = sha != lastPlaylistSHA
                lastPlaylistSHA = sha
                // RFC 8216 §6.3.4: reload after the target duration when the playlist changed, half of it when not.
                nextReload = Date().addingTimeInterval(changed ? m.targetDuration : m.targetDuration / 2)
                let jobs = schedule(m)
                // Stalled: a reload that was answered still lists nothing new after 3 target durations.
                if !m.endList && Date().timeIntervalSince(lastNewSegment) > 3 * target {
                    stopReason = "stalled: no new segment for \(Int(3 * target)) s (3 target durations)"
                    outcome = "stalled"
                }
                return jobs
            }
        }
    }

    func playlistFailed(_ why: String, fatalIfFirst: Bool = false) -> [FetchJob] {
        if mediaURL == nil || (fatalIfFirst && records.isEmpty && lastPlaylistSHA == nil) {
            outcome = "failed"
            stopReason = why
            return []
        }
        gaps.append(Gap(epoch: epoch, from: -1, to: -1, reason: "playlist reload failed: \(why)"))
        nextReload = Date().addingTimeInterval(target / 2)
        return []
    }

    func choose(_ v: [HLSPlaylist.Variant]) -> HLSPlaylist.Variant {
        switch request.variant {
        case "best": return v.max { $0.bandwidth < $1.bandwidth }!
        case "worst": return v.min { $0.bandwidth < $1.bandwidth }!
        default:
            return v.first { $0.name == request.variant || $0.resolution == request.variant || String($0.bandwidth) == request.variant }
                ?? v.max { $0.bandwidth < $1.bandwidth }!
        }
    }

    /// New segments of a media playlist: dedupe by media sequence number (never by URI), record gaps,
    /// start a new epoch when the sequence goes back, fetch keys and init segments once.
    func schedule(_ m: HLSPlaylist.Media) -> [FetchJob] {
        var out: [FetchJob] = []
        if m.endList { endList = true }
        guard let newest = m.segments.last?.sequence else { return [] }
        if let last = lastSeq, newest < last {
            // A lagging copy of the playlist (a CDN edge) lists only segments already seen, under the
            // same URIs: ignore it and reload soon. Different URIs for those numbers: a restart.
            let stale = m.segments.allSatisfy { seg in
                listedAs["\(epoch):\(seg.sequence)"].map { $0 == seg.uri + (seg.range.map { "#\($0.offset)" } ?? "") } ?? true
            }
            if stale {
                nextReload = Date().addingTimeInterval(m.targetDuration / 2)
                return []
            }
            epoch += 1
            gaps.append(Gap(epoch: epoch, from: -1, to: -1, reason: "media sequence went back from \(last) to \(m.mediaSequence): new epoch \(epoch)"))
            lastSeq = nil
        }
        if let last = lastSeq, let first = m.segments.first?.sequence, first > last + 1 {
            gaps.append(Gap(epoch: epoch, from: last + 1, to: first - 1,
                            reason: "segments \(last + 1)–\(first - 1) left the playlist before they could be fetched"))
        }
        for seg in m.segments where lastSeq == nil || seg.sequence > lastSeq! {
            if let k = seg.key, let uri = k.uri, k.method != "NONE", fetchedAux[uri] == nil {
                fetchedAux[uri] = (0, "")
                out.append(job(uri, .key))
            }
            if let map = seg.map {
                let id = map.uri + (map.range.map { "#\($0.offset)-\($0.length)" } ?? "")
                if fetchedAux[id] == nil {
                    fetchedAux[id] = (0, "")
                    out.append(job(map.uri, .map(id), range: map.range?.curlRange))
                }
            }
            pendingSegments += 1
            outstanding["\(epoch):\(seg.sequence)"] = (epoch, seg.sequence)
            listedAs["\(epoch):\(seg.sequence)"] = seg.uri + (seg.range.map { "#\($0.offset)" } ?? "")
            out.append(job(seg.uri, .segment(seg, epoch), range: seg.range?.curlRange))
            lastNewSegment = Date()
        }
        lastSeq = max(lastSeq ?? newest, newest)
        return out
    }
}
