import ArgumentParser
import Foundation
import SXEvidenceCore

struct TimestampCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timestamp",
        abstract: "RFC 3161 trusted timestamps: obtain, retry pending, verify, configure TSAs. 可信时间戳。",
        subcommands: [TimestampStampCommand.self, TimestampVerifyCommand.self, TimestampTrustCommand.self],
        defaultSubcommand: TimestampStampCommand.self)
}

struct TimestampStampCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stamp",
        abstract: "Get a token for FILE, the latest checkpoint (--checkpoint), or everything pending (--pending).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "File to time-stamp. 文件。") var file: String?
    @Flag(help: "Time-stamp the latest signed checkpoint. 为最新检查点申请时间戳。") var checkpoint = false
    @Flag(help: "Retry every time stamp that is still pending. 补申请待定的时间戳。") var pending = false
    @Option(help: "Use this TSA instead of the configured ones (with --ca).") var tsa: String?
    @Option(help: "PEM certificates trusted for --tsa.") var ca: String?

    func run() throws {
        let c = global.console()
        try c.run {
            guard [file != nil, checkpoint, pending].filter({ $0 }).count == 1 else {
                throw usageError("请给出文件，或 --checkpoint，或 --pending（三选一）", "give exactly one of FILE, --checkpoint or --pending")
            }
            guard (tsa == nil) == (ca == nil) else { throw usageError("--tsa 与 --ca 须同时给出", "--tsa needs --ca (and the reverse)") }
            guard !(pending && tsa != nil) else {
                throw usageError("--pending 使用节点配置中的时间戳服务，不接受 --tsa", "--pending retries with the configured TSAs; --tsa does not apply")
            }
            let home = try NodeHome.open(global.homePath)
            let service = TimestampService(home: home)
            let override = tsa.map { [NodeConfig.TSAEntry(url: $0, ca: URL(fileURLWithPath: ca!).path, sm3: nil)] }
            guard override != nil || !service.configured.isEmpty else {
                throw usageError("未配置时间戳服务；请用 sxevidence timestamp trust URL --ca FILE 配置，或给出 --tsa 与 --ca",
                                 "no TSA configured: add one with sxevidence timestamp trust URL --ca FILE, or give --tsa and --ca")
            }
            var outcomes: [TimestampService.Outcome] = []
            if let file {
                let data = try POSIXFile.readAll(file)
                outcomes = service.stamp(subject: "file:" + (file as NSString).lastPathComponent, data: data, tsas: override)
            } else if checkpoint {
                let cp = try checkpointAt(home, nil)
                outcomes = service.stamp(subject: "checkpoint:\(cp.size)", data: Array(cp.note.utf8), tsas: override)
            } else {
                outcomes = try service.retryPending()
            }
            report(c, outcomes)
            if outcomes.contains(where: { !$0.granted }) { throw ExitCode(75) }
        }
    }
}

func report(_ c: Console, _ outcomes: [TimestampService.Outcome]) {
    if c.json {
        c.emit(outcomes.map { o -> [String: Any] in
            var d: [String: Any] = ["subject": o.subject, "tsa": o.tsa, "algorithm": o.algorithm, "status": o.granted ? "granted" : "pending"]
            if let i = o.info { d["gen_time"] = i.genTime; d["serial"] = i.serial; d["policy"] = i.policy }
            if let t = o.tokenSHA256 { d["token_sha256"] = t }
            if let ms = o.offsetMs { d["offset_ms"] = ms }
            if let w = o.warning { d["warning"] = w }
            if let e = o.error { d["error"] = e }
            return d
        })
        return
    }
    for o in outcomes {
        if o.granted, let i = o.info {
            c.out("✓ \(o.subject)  \(o.algorithm)  \(i.genTime)  serial \(i.serial)  \(o.tsa)")
            if let w = o.warning { c.warn("⚠ 本地时钟与时间戳服务相差过大：\(w)", "⚠ \(w)") }
        } else {
            c.out("… \(o.subject)  \(o.algorithm)  \(c.t("待定", "pending"))  \(o.tsa): \(o.error ?? "")")
        }
    }
}

struct TimestampVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Show what a token (TimeStampResp, DER) says and whether it holds. 校验时间戳令牌。")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Token file (DER TimeStampResp).") var token: String
    @Option(help: "The data the token should cover.") var data: String?
    @Option(help: "Or its digest, hex.") var digest: String?
    @Option(help: "Digest algorithm: sha256 or sm3.") var algorithm: String = "sha256"
    @Option(help: "PEM certificates trusted for the TSA.") var ca: String

    func run() throws {
        let c = global.console()
        try c.run {
            guard (data == nil) != (digest == nil) else { throw usageError("须给出 --data 或 --digest 之一", "give exactly one of --data or --digest") }
            guard let alg = DigestAlgorithm(rawValue: algorithm) else { throw usageError("--algorithm 须为 sha256 或 sm3", "--algorithm must be sha256 or sm3") }
            let d: [UInt8]
            if let data {
                d = Hashing.digest(alg, try POSIXFile.readAll(data))
            } else {
                guard let h = Hex.decode(digest!), h.count == 32 else { throw usageError("--digest 须为 64 位十六进制", "--digest must be 64 hex digits") }
                d = h
            }
            let resp = try POSIXFile.readAll(token)
            let info = try TimeStamp.verify(response: resp, digest: d, algorithm: alg, request: nil, trustedPEM: try POSIXFile.readText(ca))
            if c.json {
                c.emit(["ok": true, "gen_time": info.genTime, "serial": info.serial, "policy": info.policy, "algorithm": info.algorithm,
                        "imprint": info.imprint, "accuracy": info.accuracy as Any, "nonce": info.nonce as Any])
            } else {
                c.out("✓ \(c.t("时间戳有效", "token verifies"))")
                c.out("  genTime: \(info.genTime)\n  serial: \(info.serial)\n  policy: \(info.policy)\n  \(info.algorithm): \(info.imprint)")
                if let a = info.accuracy { c.out("  accuracy: \(a)") }
            }
        }
    }
}

struct TimestampTrustCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Add a TSA to the node config with the certificates trusted for it. 配置时间戳服务。")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "TSA URL (http or https).") var url: String
    @Option(help: "PEM file with the TSA's root (and intermediate) certificates.") var ca: String
    @Flag(help: "Also ask this TSA for SM3 imprints.") var sm3 = false

    func run() throws {
        let c = global.console()
        try c.run {
            try WebCapture.validate(url)
            let home = try NodeHome.open(global.homePath)
            let pem = try POSIXFile.readText(ca)
            guard !(try X509Cert.parseAll(pem)).isEmpty else { throw EvidenceError(.dataError, zh: "\(ca) 中没有证书", en: "no certificate in \(ca)") }
            try home.addTSA(url: url, caPEM: pem, sm3: sm3)
            if c.json {
                c.emit(["tsa": url, "sm3": sm3, "trusted_certificates": try X509Cert.parseAll(pem).map(\.subject)])
            } else {
                c.say("已添加时间戳服务 \(url)", "added TSA \(url)")
            }
        }
    }
}
