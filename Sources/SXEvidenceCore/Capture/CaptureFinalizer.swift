import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension WebCapture {
    /// The manifest format this code writes. Version 2: the environment record and the capture log
    /// are canonical JSON (sxevidence-capture(5), FORMAT VERSIONS); version 1 wrote them with
    /// Foundation's pretty-printer. Readers (the evidence certificate, WACZ export, verifiers) do not
    /// depend on the version and accept both.
    public static let manifestFormat = "sxevidence-capture/2"

    /// Write the WARC and the manifest for one finished capture and store both. The ledger entry is
    /// appended by `commit`, in batches: this returns its draft and how to report the committed entry.
    func finalize(_ st: State, machine: [String: CanonicalValue]) throws -> (draft: EntryDraft, result: (LedgerEntry) -> CaptureResult) {
        let store = home.store
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let warcPath = "\(store.tmpDir)/\(tag).warc.gz"
        var tmpFiles = [warcPath]
        defer {
            for f in tmpFiles { unlink(f) }
        }
        let end = UTCTime.now()
        let final = st.hops.last
        let allExchanges = st.tlsFailures + st.hops + st.requisites

        // What the browser made from the load: resource records of the same WARC.
        let shots = st.browser?.artifacts ?? []
        tmpFiles += shots.map(\.path)
        let screenshotNote = st.browser?.note ?? (browserMissing ? "no Chromium found: libcurl-only capture, no screenshot was taken"
                                                   : "libcurl-only capture (--no-browser): no screenshot")

        let writer = try WARCWriter(path: warcPath)
        let infoBody = warcFields([
            ("software", "sxevidence/\(SXEvidence.version) (\(SXEvidence.curlVersion))"),
            ("format", "WARC File Format 1.1"),
            ("conformsTo", "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"),
            ("hostname", machine["hostname"]?.string ?? ""),
            ("operator", st.request.officer),
            ("description", "case \(st.request.caseID); node \(home.config.nodeID)"),
        ])
        try writer.write(type: "warcinfo", date: st.start, uri: nil, fields: [("Content-Type", "application/warc-fields")],
                         head: infoBody, blockSHA256: Hashing.sha256(infoBody))
        var finalResponseID: String?
        var exchangeLog: [CanonicalValue] = []
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
        var hosts: [CanonicalValue] = []
        var seenHosts: Set<String> = []
        for ex in st.hops + st.requisites {
            guard let h = URL(string: ex.url)?.host, seenHosts.insert(h).inserted else { continue }
            var d = EnvironmentRecord.host(h)
            d["connected_ip"] = .string(ex.primaryIP)
            d["dns_matches_connected"] = .bool((d["dns_answers"].flatMap(Self.stringList) ?? []).contains(ex.primaryIP))
            hosts.append(.object(d))
        }
        var env = machine
        if let ca = options.caBundle {
            env["ca_bundle"] = .string(ca)
            env["ca_bundle_sha256"] = .string(EnvironmentRecord.fileSHA256(ca) ?? "unavailable")
        }
        env["hosts"] = .array(hosts)
        if let b = st.browser { env["browser"] = .object(b.environment) }
        env["clock_offset_ms_vs_server_date"] = EnvironmentRecord.clockOffsetMilliseconds(
            serverDate: final?.header("date"), localISO: final?.finished ?? end).map { .int($0) } ?? .null
        // Canonical JSON (sxevidence-capture/2): the bytes depend on the values alone.
        let envBytes = CanonicalValue.object(env).canonicalBytes
        var mf: [(String, String)] = [("Content-Type", "application/json")]
        if let r = finalResponseID { mf.append(("WARC-Refers-To", r)) }
        try writer.write(type: "metadata", date: end, uri: "urn:sxevidence:environment", fields: mf, head: envBytes,
                         blockSHA256: Hashing.sha256(envBytes))
        let outcome = Self.outcome(st)
        let logObj: [String: CanonicalValue] = ["url": .string(st.request.url), "start": .string(st.start), "end": .string(end),
                                                "outcome": .string(outcome.0), "error": .optional(outcome.1),
                                                "exchanges": .array(exchangeLog), "screenshot": .string(screenshotNote)]
            .merging(st.browser.map { ["browser": .object($0.log)] } ?? [:]) { a, _ in a }
        let logBytes = CanonicalValue.object(logObj).canonicalBytes
        try writer.write(type: "metadata", date: end, uri: "urn:sxevidence:capture-log", fields: mf, head: logBytes,
                         blockSHA256: Hashing.sha256(logBytes))
        for (uri, block) in st.browser?.records ?? [] {
            try writer.write(type: "metadata", date: end, uri: uri, fields: [("Content-Type", "application/json")], head: block,
                             blockSHA256: Hashing.sha256(block))
        }
        if let pem = st.browser?.shownCertificatesPEM {
            // The interception CA and the leaf of every host: what the browser was shown.
            let b = Array(pem.utf8)
            try writer.write(type: "metadata", date: end, uri: "urn:sxevidence:interception-certificates",
                             fields: [("Content-Type", "application/x-pem-file")], head: b, blockSHA256: Hashing.sha256(b))
        }
        var shotArtifacts: [CanonicalValue] = []
        for s in shots {
            let (size, sha, sm3) = try ObjectStore.hashFile(s.path)
            var f: [(String, String)] = [("Content-Type", s.contentType)]
            if let r = finalResponseID { f.append(("WARC-Concurrent-To", r)) }
            try writer.write(type: "resource", date: end, uri: "urn:sxevidence:\(s.name)", fields: f, head: [],
                             bodyPath: s.path, bodySize: size, blockSHA256: sha)
            shotArtifacts.append(.object(["name": .string(s.name), "size": .int(size), "sha256": .string(Hex.encode(sha)),
                                          "sm3": .string(Hex.encode(sm3)), "content_type": .string(s.contentType)]))
        }
        try writer.sync()
        let records = writer.records
        let warc = try store.adopt(path: warcPath, name: "capture.warc.gz")

        var m: [String: CanonicalValue] = [
            "format": .string(Self.manifestFormat),
            "url": .string(st.request.url),
            "final_url": .string(final?.url ?? st.request.url),
            "status": .int(Int64(final?.status ?? 0)),
            "outcome": .string(outcome.0),
            "case": .string(st.request.caseID),
            "officer": .string(st.request.officer),
            "node": .string(home.config.nodeID),
            "method": .string(st.browser?.method ?? Self.method(options.allowInvalidTLS)),
            "start": .string(st.start),
            "end": .string(end),
            "environment_sha256": .string(Hex.encode(Hashing.sha256(envBytes))),
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
        if let b = st.browser {
            m["browser"] = .object(b.manifest)
            if let e = b.error { m["browser_error"] = .string(e) }
        }
        let manifestPath = "\(store.tmpDir)/\(tag).manifest.json"
        tmpFiles.append(manifestPath)
        try POSIXFile.writeAtomically(manifestPath, CanonicalValue.object(m).canonicalBytes, mode: 0o600)
        let manifest = try store.adopt(path: manifestPath, name: "manifest.json")
        let draft = EntryDraft(kind: .web, caseID: st.request.caseID, officer: st.request.officer,
                               method: st.browser?.method ?? Self.method(options.allowInvalidTLS), note: st.request.note,
                               artifacts: [manifest, warc])
        let tlsWarning = st.tlsFailures.first.map { "TLS certificate verification failed: \($0.error ?? "")" } ?? st.browser?.tlsWarning
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
        if let e = st.browser?.error { return ("incomplete", e) }
        return ("ok", nil)
    }

    static func stringList(_ v: CanonicalValue) -> [String]? {
        guard case .array(let a) = v else { return nil }
        return a.compactMap(\.string)
    }

    /// One exchange in the capture log: everything libcurl reported.
    static func describe(_ ex: HTTPExchange, entitySHA256: String?) -> CanonicalValue {
        var d: [String: CanonicalValue] = [
            "url": .string(ex.url), "status": .int(Int64(ex.status)), "http_version": .string(ex.httpVersion),
            "ip": .string(ex.primaryIP), "port": .int(Int64(ex.primaryPort)),
            "local_ip": .string(ex.localIP), "local_port": .int(Int64(ex.localPort)),
            "timings_us": .object(ex.timings.mapValues { .int($0) }), "started": .string(ex.started),
            "finished": .string(ex.finished), "body_size": .int(ex.bodySize), "body_sha256": .string(Hex.encode(ex.bodySHA256)),
            "body_sm3": .string(Hex.encode(ex.bodySM3)), "request_head": .string(String(decoding: ex.requestHead, as: UTF8.self)),
            "response_head": .string(String(decoding: ex.responseHead, as: UTF8.self)), "curl_log": .strings(ex.log),
            "curl_code": .int(Int64(ex.curlCode)),
        ]
        if let e = entitySHA256 { d["entity_sha256_transfer_decoded"] = .string(e) }
        if let v = ex.tlsVersion { d["tls_version"] = .string(v) }
        if let c = ex.tlsCipher { d["tls_cipher"] = .string(c) }
        if let v = ex.tlsVerified { d["tls_verified"] = .bool(v) }
        if !ex.certificates.isEmpty { d["certificate_chain_pem"] = .strings(ex.certificates) }
        if let e = ex.error { d["error"] = .string(e) }
        if let t = ex.truncated { d["truncated"] = .string(t) }
        if let n = ex.proxyNote { d["proxy_note"] = .string(n) }
        return .object(d)
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
        if let pem = ex.certificates.first, let leaf = try? X509Certificate.parseAll(pem).first {
            o["tls_subject"] = .string(leaf.subject)
            o["tls_issuer"] = .string(leaf.issuer)
        }
        return .object(o)
    }

}
