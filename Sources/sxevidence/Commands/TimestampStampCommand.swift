import ArgumentParser
import Foundation
import SXEvidenceCore

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
