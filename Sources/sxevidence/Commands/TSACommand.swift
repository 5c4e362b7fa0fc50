import ArgumentParser
import Foundation
import SXEvidenceCore

struct TSACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tsa",
        abstract: "The node as an RFC 3161 time-stamping authority. 节点时间戳服务。",
        subcommands: [TSAInitCommand.self])
}
