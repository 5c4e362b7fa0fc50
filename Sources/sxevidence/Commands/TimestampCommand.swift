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
