import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension WebCapture {
    /// Write the WARC and the manifest for one finished capture and store both. The ledger entry is
    /// appended by `commit`, in batches: this returns its draft and how to report the committed entry.
    func finalize(_ st: State, machine: [String: Any]) throws -> (draft: EntryDraft, result: (LedgerEntry) -> CaptureResult) {
        let store = home.store
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let warcPath = "\(store.tmpDir)/\(tag).warc.gz"
        var tmpFiles = [warcPath]
        var tmpDirs: [String] = []
        defer {
            for f in tmpFiles { unlink(f) }
            for d in tmpDirs { try? FileManager.default.removeItem(atPath: d) }
        }
        let end = UTCTime.now()
        let final = st.hops.last
        let allExchanges = st.tlsFailures + st.hops + st.requisites

        // Screenshots first: they go into the same WARC.
        var shots: [ScreenshotTaker.Shot] = []
        var screenshotNote = "not requested"
        if let taker = screenshots {
            let dir = "\(store.tmpDir)/\(tag).shots"
            mkdir(dir, 0o700)
            let (s, log) = taker.take(url: final?.url ?? st.request.url, dir: dir, insecure: options.allowInvalidTLS)
            shots = s
            tmpFiles += s.map(\.path)
            tmpDirs.append(dir)
            screenshotNote = s.isEmpty ? "browser failed: " + log.joined(separator: "; ")
                : "taken with \(taker.browser)" + (log.isEmpty ? "" : "; failed: " + log.joined(separator: "; "))
        } else if screenshotsWanted {
            screenshotNote = "no browser found; no screenshot was taken"
        }

        let writer = try WARCWriter(path: warcPath)
        let infoBody = warcFields([
            ("software", "sxevidence/\(SXEvidence.version) (\(SXEvidence.curlVersion))"),
            ("format", "WARC File Format 1.1"),
            ("conformsTo", "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"),
            ("hostname", machine["hostname"] as? String ?? ""),
            ("operator", st.request.officer),
            ("description", "case \(st.request.caseID); node \(home.config.nodeID)"),
        ])
        try writer.write(type: "warcinfo", date: st.start, uri: nil, fields: [("Content-Type", "application/warc-fields")],
                         head: infoBody, blockSHA256: Hashing.sha256(infoBody))
        var finalResponseID: String?
        var exchangeLog: [[String: Any]] = []
        for ex in allExchanges {
            let responseID = try writer.writeExchange(ex)
            let hasResponse = responseID != nil
            if let responseID, let final, ex.url == final.url && ex.started == final.started { finalResponseID = responseID }
            if !ex.certificates.isEmpty {
                // The chain this exchange's connection presented, tied to that exchange's response.
                let b = Array(ex.certificates.joined().utf8)
                var f: [(String, String)] = [("Content-Type", "application/x-pem-file")]
                if let responseID { f.append(("WARC-Refers-To", responseID)) }
                try writer.write(type: "metadata", date: ex.finished, uri: ex.url, fields: f, head: b, blockSHA256: Hashing.sha256(b))
            }
            exchangeLog.append(Self.describe(ex, entitySHA256: hasResponse ? Decoding.entitySHA256(of: ex) : nil))
        }
        var hosts: [[String: Any]] = []
        var seenHosts: Set<String> = []
        for ex in st.hops + st.requisites {
            guard let h = URL(string: ex.url)?.host, seenHosts.insert(h).inserted else { continue }
            var d = EnvironmentRecord.host(h)
            d["connected_ip"] = ex.primaryIP
            d["dns_matches_connected"] = (d["dns_answers"] as? [String] ?? []).contains(ex.primaryIP)
            hosts.append(d)
        }
        var env = machine
        if let ca = options.caBundle {
            env["ca_bundle"] = ca
            env["ca_bundle_sha256"] = EnvironmentRecord.fileSHA256(ca) ?? "unavailable"
        }
        env["hosts"] = hosts
        env["clock_offset_seconds_vs_server_date"] = EnvironmentRecord.clockOffset(serverDate: final?.header("date"), localISO: final?.finished ?? end) as Any
        let envBytes = try JSONSerialization.data(withJSONObject: env, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        var mf: [(String, String)] = [("Content-Type", "application/json")]
        if let r = finalResponseID { mf.append(("WARC-Refers-To", r)) }
        try writer.write(type: "metadata", date: end, uri: "urn:sxevidence:environment", fields: mf, head: Array(envBytes),
                         blockSHA256: Hashing.sha256(Array(envBytes)))
        let outcome = Self.outcome(st)
        let logObj: [String: Any] = ["url": st.request.url, "start": st.start, "end": end, "outcome": outcome.0,
                                     "error": outcome.1 as Any, "exchanges": exchangeLog, "screenshot": screenshotNote]
        let logBytes = Array(try JSONSerialization.data(withJSONObject: logObj, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]))
        try writer.write(type: "metadata", date: end, uri: "urn:sxevidence:capture-log", fields: mf, head: logBytes,
                         blockSHA256: Hashing.sha256(logBytes))
        var shotArtifacts: [CanonicalValue] = []
        for s in shots {
            let (size, sha, sm3) = try ObjectStore.hashFile(s.path)
            var f: [(String, String)] = [("Content-Type", s.contentType)]
            if let r = finalResponseID { f.append(("WARC-Concurrent-To", r)) }
            try writer.write(type: "resource", date: end, uri: "urn:sxevidence:\(s.name)", fields: f, head: [],
                             bodyPath: s.path, bodySize: size, blockSHA256: sha)
            shotArtifacts.append(.object(["name": .string(s.name), "size": .int(size), "sha256": .string(Hex.encode(sha)),
                                          "sm3": .string(Hex.encode(sm3))]))
        }
        try writer.sync()
        let records = writer.records
        let warc = try store.adopt(path: warcPath, name: "capture.warc.gz")

        var m: [String: CanonicalValue] = [
            "format": .string("sxevidence-capture/1"),
            "url": .string(st.request.url),
            "final_url": .string(final?.url ?? st.request.url),
            "status": .int(Int64(final?.status ?? 0)),
            "outcome": .string(outcome.0),
            "case": .string(st.request.caseID),
            "officer": .string(st.request.officer),
            "node": .string(home.config.nodeID),
            "method": .string(Self.method(options.allowInvalidTLS)),
            "start": .string(st.start),
            "end": .string(end),
            "environment_sha256": .string(Hex.encode(Hashing.sha256(Array(envBytes)))),
            "capture_log_sha256": .string(Hex.encode(Hashing.sha256(logBytes))),
            "screenshot": .string(screenshotNote),
            "artifacts": .array([.object(["name": .string(warc.name), "size": .int(warc.size), "sha256": .string(warc.sha256), "sm3": .string(warc.sm3)])]
                                + shotArtifacts.map { v in
                                    guard case .object(var o) = v else { return v }
                                    o["in_warc"] = .string("capture.warc.gz")
                                    return .object(o)
                                }),
            "exchanges": .array(allExchanges.map(Self.manifestExchange)),
            "warc_records": .array(records.map { r in
                var o: [String: CanonicalValue] = ["id": .string(r.id), "type": .string(r.type), "block_sha256": .string(r.blockSHA256),
                                                   "date": .string(r.date), "offset": .int(r.offset), "length": .int(r.length)]
                if let u = r.uri { o["uri"] = .string(u) }
                if let st = r.status { o["status"] = .int(Int64(st)) }
                if let m = r.mime { o["mime"] = .string(m) }
                if let p = r.payloadSHA256 { o["payload_sha256"] = .string(p) }
                return .object(o)
            }),
        ]
        if let e = outcome.1 { m["error"] = .string(e) }
        if let n = st.request.note { m["note"] = .string(n) }
        if let s = st.request.series { m["series"] = .string(s) }
        if let k = st.request.snapshot { m["snapshot"] = .int(Int64(k)) }
        let manifestPath = "\(store.tmpDir)/\(tag).manifest.json"
        tmpFiles.append(manifestPath)
        try POSIXFile.writeAtomically(manifestPath, CanonicalValue.object(m).canonicalBytes, mode: 0o600)
        let manifest = try store.adopt(path: manifestPath, name: "manifest.json")
        let draft = EntryDraft(kind: .web, caseID: st.request.caseID, officer: st.request.officer,
                               method: Self.method(options.allowInvalidTLS), note: st.request.note, artifacts: [manifest, warc])
        let tlsWarning = st.tlsFailures.first.map { "TLS certificate verification failed: \($0.error ?? "")" }
        let url = st.request.url, requisites = st.requisites.count
        return (draft, { entry in
            CaptureResult(entry: entry, url: url, finalURL: final?.url ?? url, status: final?.status ?? 0, outcome: outcome.0,
                          error: outcome.1, warc: warc, manifest: manifest, requisites: requisites, tlsWarning: tlsWarning)
        })
    }

    static func outcome(_ st: State) -> (String, String?) {
        if let f = st.failure { return ("failed", f) }
        guard let final = st.hops.last else { return ("failed", "no response") }
        if final.responseHead.isEmpty { return ("failed", final.error ?? "no response") }
        if final.truncated != nil { return ("truncated", final.error ?? "truncated: \(final.truncated!)") }
        if final.status >= 400 { return ("http-error", "HTTP \(final.status)") }
        return ("ok", nil)
    }

    static func describe(_ ex: HTTPExchange, entitySHA256: String?) -> [String: Any] {
        var d: [String: Any] = [
            "url": ex.url, "status": ex.status, "http_version": ex.httpVersion, "ip": ex.primaryIP, "port": ex.primaryPort,
            "local_ip": ex.localIP, "local_port": ex.localPort, "timings_us": ex.timings, "started": ex.started,
            "finished": ex.finished, "body_size": ex.bodySize, "body_sha256": Hex.encode(ex.bodySHA256),
            "body_sm3": Hex.encode(ex.bodySM3), "request_head": String(decoding: ex.requestHead, as: UTF8.self),
            "response_head": String(decoding: ex.responseHead, as: UTF8.self), "curl_log": ex.log, "curl_code": ex.curlCode,
        ]
        if let e = entitySHA256 { d["entity_sha256_transfer_decoded"] = e }
        if let v = ex.tlsVersion { d["tls_version"] = v }
        if let c = ex.tlsCipher { d["tls_cipher"] = c }
        if let v = ex.tlsVerified { d["tls_verified"] = v }
        if !ex.certificates.isEmpty { d["certificate_chain_pem"] = ex.certificates }
        if let e = ex.error { d["error"] = e }
        if let t = ex.truncated { d["truncated"] = t }
        return d
    }

    static func manifestExchange(_ ex: HTTPExchange) -> CanonicalValue {
        var o: [String: CanonicalValue] = [
            "url": .string(ex.url), "status": .int(Int64(ex.status)), "ip": .string(ex.primaryIP),
            "port": .int(Int64(ex.primaryPort)), "body_size": .int(ex.bodySize),
            "body_sha256": .string(Hex.encode(ex.bodySHA256)), "body_sm3": .string(Hex.encode(ex.bodySM3)),
            "started": .string(ex.started), "finished": .string(ex.finished),
        ]
        if let e = ex.error { o["error"] = .string(e) }
        if let t = ex.truncated { o["truncated"] = .string(t) }
        if let v = ex.tlsVerified { o["tls_verified"] = .string(v ? "yes" : "NO") }
        if let v = ex.tlsVersion { o["tls_version"] = .string(v) }
        // The server certificate's names, for people (the whole chain is in the WARC).
        if let pem = ex.certificates.first, let leaf = try? X509Cert.parseAll(pem).first {
            o["tls_subject"] = .string(leaf.subject)
            o["tls_issuer"] = .string(leaf.issuer)
        }
        return .object(o)
    }

}
