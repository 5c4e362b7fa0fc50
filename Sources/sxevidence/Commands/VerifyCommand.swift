import ArgumentParser
import Foundation
import SXEvidenceCore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute and check everything in the node home, or an exported bundle offline. 校验节点账本，或离线核验证据包。",
        discussion: "With BUNDLE: no node home is used (sxevidence-bundle(5)). Exit status 0 when everything verifies against the trust roots given (--policy, and --tsa-ca or TSA roots the policy names), 1 when anything does not (each failure is named), 2 when everything is consistent but not checked against a trust root you hold (no --policy, or time stamps whose roots only the bundle supplies), 65 for a malformed or unsafe bundle.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "An evidence bundle to verify offline. 证据包。") var bundle: String?

    @Option(help: "With BUNDLE: the consortium policy obtained separately (trust roots). 另行取得的联盟策略。") var policy: String?

    @Option(name: .customLong("tsa-ca"), help: "With BUNDLE: TSA root certificates obtained separately. 时间戳根证书。") var tsaCA: String?

    @Flag(name: .customLong("no-objects"), help: "Skip re-hashing the stored files. 不重算证据文件哈希。")
    var noObjects = false

    @Flag(help: "On the city: check every member replica, anchor and cosignature, per node. 校验联盟副本与锚定。")
    var consortium = false

    func run() throws {
        let c = global.console()
        try c.run {
            if let bundle { return try verifyBundle(bundle, c) }
            if policy != nil || tsaCA != nil {
                throw usageError("--policy 与 --tsa-ca 只用于核验证据包（sxevidence verify 证据包.zip）", "--policy and --tsa-ca apply to a bundle: sxevidence verify BUNDLE.zip")
            }
            let home = try NodeHome.open(global.homePath)
            if consortium { return try verifyConsortium(home, c) }
            var v = LedgerVerifier(home: home)
            v.checkObjects = !noObjects
            let report = try v.run { phase, done, total in
                c.progress("\(phase) \(done)/\(total)")
            }
            c.endProgress()
            if c.json {
                c.emit(LedgerJSON(ok: report.ok, nodeID: home.config.nodeID, checks: report.checks,
                                  failures: report.failures.map { .init($0, c.lang) }))
            } else {
                c.say("密码自检通过（SHA-256、SM3、Ed25519、SM2）", "crypto self-test passed (SHA-256, SM3, Ed25519, SM2)")
                for k in report.checks {
                    let rate = k.seconds > 0 ? String(format: "%.0f/s", Double(k.count) / k.seconds) : "-"
                    c.out("\(k.ok ? "✓" : "✗") \(k.name): \(k.count)  (\(k.detail); \(String(format: "%.3f", k.seconds)) s, \(rate))")
                }
                for f in report.failures {
                    c.out("✗ \(f.message(c.lang))")
                    c.out("    \(c.t("字段", "field")) \(f.field): \(c.t("应为", "expected")) \(f.expected)  \(c.t("实为", "found")) \(f.found)")
                }
                c.say(report.ok ? "结论：通过" : "结论：未通过", report.ok ? "verdict: OK" : "verdict: FAILED")
            }
            if !report.ok { throw ExitCode(EvidenceError.Code.verification.exitStatus) }
        }
    }

    func verifyConsortium(_ home: NodeHome, _ c: Console) throws {
        let node = ConsortiumNode(home: home, keys: nil)
        var cv = ConsortiumVerifier(node: node)
        cv.checkObjects = !noObjects
        let reports = try cv.run { what, done, total in c.progress("\(what) \(done)/\(total)") }
        c.endProgress()
        let ok = reports.allSatisfy(\.ok)
        if c.json {
            c.emit(ConsortiumJSON(ok: ok, nodes: reports.map { .init($0, c.lang) }))
        } else {
            for r in reports {
                if !r.replicated && r.problems.isEmpty {
                    c.say("- \(r.node) \(r.name)：尚无副本（未同步过）", "- \(r.node) \(r.name): no replica yet (never synced)")
                    continue
                }
                let summary = (r.ledger?.checks ?? []).map { "\($0.ok ? "✓" : "✗")\($0.name) \($0.count)" }.joined(separator: "  ")
                c.out("\(r.ok ? "✓" : "✗") \(r.node) \(r.name): \(r.size) \(c.t("条", "entries")), \(r.anchors) \(c.t("个锚定", "anchors"))\(r.alerts > 0 ? ", \(r.alerts) " + c.t("个告警", "alerts") : "")  [\(summary)]")
                for f in r.ledger?.failures ?? [] { c.out("    ✗ \(f.message(c.lang))") }
                for p in r.problems { c.out("    ✗ \(p)") }
            }
            c.say(ok ? "结论：联盟副本全部通过" : "结论：未通过", ok ? "verdict: OK, every replica and anchor verifies" : "verdict: FAILED")
        }
        if !ok { throw ExitCode(EvidenceError.Code.verification.exitStatus) }
    }

    func verifyBundle(_ path: String, _ c: Console) throws {
        var v = BundleVerifier(path: path)
        v.trustedPolicy = try policy.map(POSIXFile.readText)
        v.tsaRoots = try tsaCA.map(POSIXFile.readText)
        v.progress = { c.progress($0) }
        let r = try v.run()
        c.endProgress()
        let verdict = r.verdict
        if c.json {
            c.emit(BundleJSON(ok: r.ok, verdict: verdict.rawValue, items: r.items, trustRootsConfirmed: r.trustRootsConfirmed, cityKey: r.cityKey,
                              fingerprints: r.fingerprints, informative: r.informative,
                              checks: r.checks.map { .init(item: $0.item, check: $0.name, ok: $0.ok, unconfirmed: $0.unconfirmed, detail: $0.detail) }))
        } else {
            let esc = Display.escape
            // Per-file digest checks are summarised unless one fails (--json lists them all).
            let fileChecks = r.checks.filter { $0.item == "bundle" && $0.name.hasPrefix("file ") }
            if !fileChecks.isEmpty && fileChecks.allSatisfy(\.ok) {
                c.out("✓ [bundle] \(c.t("文件", "files")): \(fileChecks.count) \(c.t("个文件的大小、SHA-256、SM3 与 bundle.json 一致", "files match bundle.json in size, SHA-256 and SM3"))")
            }
            for k in r.checks where !(k.item == "bundle" && k.name.hasPrefix("file ") && k.ok) {
                let mark = !k.ok ? "✗" : k.unconfirmed ? "?" : "✓"
                c.out("\(mark) [\(esc(k.item))] \(esc(k.name)): \(esc(k.detail))")
            }
            if !r.informative.isEmpty {
                c.say("未受任何签名保护（仅供参考，改动它们不影响结论）：", "not covered by any signature (informative; editing them does not change the verdict):")
                for f in r.informative { c.out("    \(esc(f))") }
            }
            if !r.fingerprints.isEmpty {
                c.say("市级节点公钥指纹（请与另行取得的核对）：", "city key fingerprints (compare with what you received separately):")
                c.out("city key ed25519 sha256:\(r.fingerprints["ed25519"] ?? "")")
                c.out("city key sm2 sha256:\(r.fingerprints["sm2"] ?? "")")
            }
            switch verdict {
            case .valid: c.say("结论：证据包核验通过（\(r.items) 项）", "verdict: VALID (\(r.items) items)")
            case .invalid: c.say("结论：证据包核验未通过", "verdict: INVALID")
            case .unconfirmed:
                c.say("结论：一致，但未对照您持有的信任根核验（\(r.items) 项）" + (policy == nil ? "：未给出 --policy" : "：时间戳根证书不在所给策略中，且未给出 --tsa-ca"),
                      "verdict: CONSISTENT, NOT CHECKED AGAINST A TRUST ROOT YOU HOLD (\(r.items) items)" +
                      (policy == nil ? ": no --policy given" : ": the TSA roots are not named in the policy given and no --tsa-ca"))
            }
        }
        if verdict == .unconfirmed { throw ExitCode(2) }
        if !r.ok { throw ExitCode(EvidenceError.Code.verification.exitStatus) }
    }
}

// --json forms (sxevidence(1), JSON OUTPUT), made from the same reports the text above prints.
extension VerifyCommand {
    struct FailureJSON: Encodable {
        let evidenceID: OrNull<String>, field: String, expected: String, found: String, message: String
        init(_ f: VerifyFailure, _ lang: Language) {
            evidenceID = OrNull(f.evidenceID); field = f.field; expected = f.expected; found = f.found; message = f.message(lang)
        }
    }
    struct LedgerJSON: Encodable { let ok: Bool; let nodeID: String; let checks: [VerifyCheck]; let failures: [FailureJSON] }
    struct NodeCheckJSON: Encodable { let name: String; let ok: Bool; let count: Int64; let detail: String }
    struct NodeJSON: Encodable {
        let node: String, name: String, ok: Bool, replicated: Bool, size: Int64, anchors: Int, latestAnchored: Bool, alerts: Int
        let problems: [String], failures: [String], checks: [NodeCheckJSON]
        init(_ r: ConsortiumVerifier.NodeReport, _ lang: Language) {
            node = r.node; name = r.name; ok = r.ok; replicated = r.replicated; size = r.size; anchors = r.anchors
            latestAnchored = r.latestAnchored; alerts = r.alerts; problems = r.problems
            failures = (r.ledger?.failures ?? []).map { $0.message(lang) }
            checks = (r.ledger?.checks ?? []).map { .init(name: $0.name, ok: $0.ok, count: $0.count, detail: $0.detail) }
        }
    }
    struct ConsortiumJSON: Encodable { let ok: Bool; let nodes: [NodeJSON] }
    struct BundleCheckJSON: Encodable { let item: String, check: String, ok: Bool, unconfirmed: Bool, detail: String }
    struct BundleJSON: Encodable {
        let ok: Bool, verdict: String, items: Int, trustRootsConfirmed: Bool, cityKey: String
        let fingerprints: [String: String], informative: [String], checks: [BundleCheckJSON]
    }
}
