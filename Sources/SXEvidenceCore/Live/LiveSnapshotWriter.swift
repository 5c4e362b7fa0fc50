import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension LiveCapture {
    /// The running hash chain over segments and gaps in (epoch, sequence) order (sxevidence-live(5)):
    /// h0 = SHA-256("sxevidence-live-chain/1"); h = SHA-256(h || item), item the ASCII line
    /// "seg <epoch> <sequence> <sha256 hex>" or "gap <epoch> <from> <to>".
    static func chain(_ records: [SegmentRecord], _ gaps: [Gap]) -> (head: String, links: [String]) {
        var items: [(Int, Int64, String)] = records.map { ($0.epoch, $0.sequence, "seg \($0.epoch) \($0.sequence) \($0.sha256)") }
        items += gaps.filter { $0.from >= 0 }.map { ($0.epoch, $0.from, "gap \($0.epoch) \($0.from) \($0.to)") }
        items.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var h = Hashing.sha256(Array("sxevidence-live-chain/1".utf8))
        var links: [String] = []
        for (_, _, line) in items {
            h = Hashing.sha256(h + Array(line.utf8))
            links.append(Hex.encode(h))
        }
        return (Hex.encode(h), links)
    }

    /// One frame of the newest segment, by ffmpeg when installed: AES-128 segments are decrypted in
    /// memory for this only (what is stored stays as received). Stored as a resource record and hashed.
    func stillFrame() throws {
        guard let ffmpeg, let (path, seg) = latestSegment else { return }
        latestSegment = nil
        defer { unlink(path) }
        var data = (try? POSIXFile.readAll(path)) ?? []
        var note = "frame of segment \(seg.sequence)"
        if let k = seg.key, k.method == "AES-128", let uri = k.uri {
            guard let key = keyBytes[uri] else {
                frames.append(.object(["sequence": .int(seg.sequence), "error": .string("key not available: no frame")]))
                return
            }
            var iv = k.iv ?? [UInt8](repeating: 0, count: 8) + withUnsafeBytes(of: UInt64(seg.sequence).bigEndian) { Array($0) }
            if iv.count != 16 { iv = [UInt8](repeating: 0, count: 16) }
            guard let clear = AES128.cbcDecrypt(data, key: key, iv: iv) else {
                frames.append(.object(["sequence": .int(seg.sequence), "error": .string("AES-128 decryption failed: no frame")]))
                return
            }
            data = clear
            note += " (decrypted in memory)"
        }
        if let map = seg.map, let initBytes = mapBytes[map.uri] { data = initBytes + data }
        let input = "\(path).in", output = "\(path).png"
        defer { unlink(input); unlink(output) }
        try POSIXFile.writeAtomically(input, data, mode: 0o600)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ffmpeg)
        p.arguments = ["-nostdin", "-loglevel", "error", "-y", "-i", input, "-frames:v", "1", "-f", "image2", output]
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        let msg = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0, let png = try? POSIXFile.readAll(output), !png.isEmpty else {
            frames.append(.object(["sequence": .int(seg.sequence), "error": .string("ffmpeg: " + msg.trimmingCharacters(in: .whitespacesAndNewlines))]))
            return
        }
        let name = "frame-\(seg.sequence).png"
        try writer.write(type: "resource", date: UTCTime.now(), uri: "urn:sxevidence:\(name)", fields: [("Content-Type", "image/png")],
                         head: png, blockSHA256: Hashing.sha256(png))
        frames.append(.object(["sequence": .int(seg.sequence), "name": .string(name), "size": .int(Int64(png.count)),
                               "sha256": .string(Hex.encode(Hashing.sha256(png))), "sm3": .string(Hex.encode(Hashing.sm3(png))),
                               "note": .string(note)]))
    }

    /// One method string for the manifest and the entry.
    var liveMethod: String {
        "sxevidence live: \(SXEvidence.curlVersion), HLS (RFC 8216) polled by §6.3.4 or HTTP-FLV, bytes stored as received, WARC 1.1, segment hash chain"
            + (options.allowInvalidTLS ? "; TLS certificates not verified (--allow-invalid-tls)" : "")
    }

    /// Close the current WARC part, write the cumulative manifest, append the entry. Not final: open the next part.
    func snapshot(final: Bool) throws -> LiveSnapshot {
        try stillFrame()
        try writer.sync()
        let warc = try home.store.adopt(path: partPath, name: String(format: "live-part-%03d.warc.gz", part))
        parts.append(warc)
        // The part is in the store: whatever happens next, recording goes on into a new part.
        writer = nil
        do {
            return try commitSnapshot(final: final, warc: warc)
        } catch {
            if writer == nil { try? openPart() }
            throw error
        }
    }

    private func commitSnapshot(final: Bool, warc: Artifact) throws -> LiveSnapshot {
        let sorted = records.sorted { ($0.epoch, $0.sequence) < ($1.epoch, $1.sequence) }
        let (head, _) = Self.chain(sorted, gaps)
        let segs: [CanonicalValue] = sorted.map { r in
            var o: [String: CanonicalValue] = ["epoch": .int(Int64(r.epoch)), "sequence": .int(r.sequence), "uri": .string(r.uri),
                                               "status": .int(Int64(r.status)), "size": .int(r.size), "sha256": .string(r.sha256),
                                               "sm3": .string(r.sm3), "received": .string(r.received),
                                               "duration_ms": .int(Int64((r.duration * 1000).rounded())),
                                               "discontinuity_sequence": .int(r.discontinuitySequence), "part": .int(Int64(r.part))]
            if r.discontinuity { o["discontinuity"] = .string("yes") }
            if let p = r.programDateTime { o["program_date_time"] = .string(p) }
            if let g = r.range { o["range"] = .string(g) }
            if let e = r.error { o["error"] = .string(e) }
            if let k = r.keyURI { o["key_uri"] = .string(k) }
            return .object(o)
        }
        var m: [String: CanonicalValue] = [
            "format": .string("sxevidence-live/1"),
            "url": .string(request.url),
            "case": .string(request.caseID),
            "officer": .string(request.officer),
            "node": .string(home.config.nodeID),
            "method": .string(liveMethod),
            "start": .string(started),
            "snapshot_time": .string(UTCTime.now()),
            "final": .string(final ? "yes" : "no"),
            "outcome": .string(final ? outcome : "in progress"),
            "parts": .array(parts.map { .object(["name": .string($0.name), "size": .int($0.size), "sha256": .string($0.sha256), "sm3": .string($0.sm3)]) }),
            "segments": .array(segs),
            "gaps": .array(gaps.map { .object(["epoch": .int(Int64($0.epoch)), "from": .int($0.from), "to": .int($0.to), "reason": .string($0.reason)]) }),
            "playlists": .array(playlists.map { .object(["url": .string($0.0), "status": .int(Int64($0.1)), "sha256": .string($0.2)]) }),
            "auxiliary": .array(fetchedAux.sorted { $0.key < $1.key }.map { .object(["uri": .string($0.key), "status": .int(Int64($0.value.0)), "sha256": .string($0.value.1)]) }),
            "chain_head": .string(head),
            "still_frames": ffmpeg == nil ? .string("ffmpeg is not installed; no still frame was taken") : .array(frames),
        ]
        if final, let r = stopReason { m["stop_reason"] = .string(r) }
        if !variantChoice.isEmpty { m["variant"] = .object(variantChoice.mapValues { .string($0) }) }
        if let f = flvHeader { m["flv_header"] = .object(f) }
        if let p = request.pageEvidenceID { m["page_evidence_id"] = .string(p) }
        if let n = request.note { m["note"] = .string(n) }
        let manifestPath = "\(home.store.tmpDir)/\(getpid())-live-manifest-\(UInt32.random(in: 0...UInt32.max)).json"
        try POSIXFile.writeAtomically(manifestPath, CanonicalValue.object(m).canonicalBytes, mode: 0o600)
        let manifest = try home.store.adopt(path: manifestPath, name: "live-manifest.json")
        try home.store.sync()
        let draft = EntryDraft(kind: .live, caseID: request.caseID, officer: request.officer,
                               method: liveMethod,
                               note: request.note, artifacts: [manifest, warc])
        let (entries, _) = try home.ledger.append([draft], sign: keys.sign)
        let snap = LiveSnapshot(entry: entries[0], part: part, segments: records.count, gaps: gaps.filter { $0.from >= 0 }.count,
                                chainHead: head, final: final, outcome: final ? outcome : "in progress", reason: final ? stopReason : nil)
        if !final { try openPart() }
        return snap
    }
}
