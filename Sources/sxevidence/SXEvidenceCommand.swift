import ArgumentParser
import SXEvidenceCore

@main
struct SXEvidenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sxevidence",
        abstract: "Electronic evidence for online-market supervision: web and livestream capture to WARC, evidence registration, a signed append-only ledger, trusted time. 市场监管电子数据取证与存证工具。",
        discussion: """
        Exit status: 0 ok, 1 verification failed, 64 usage error, 65 malformed input data, 66 not found, \
        70 internal or self-test failure, 73 already exists, 74 I/O error, 75 a fetch failed or a time stamp is pending (recorded either way). See sxevidence(1).
        """,
        version: SXEvidence.version,
        subcommands: [
            InitCommand.self, KeyCommand.self, AddCommand.self, CaptureCommand.self, LiveCommand.self, LogCommand.self, ShowCommand.self,
            CheckpointCommand.self, ProofCommand.self, TimestampCommand.self, TSACommand.self, ConsortiumCommand.self, SyncCommand.self, RestoreCommand.self, ExportCommand.self, ServeCommand.self, VerifyCommand.self, SelfTestCommand.self, VersionCommand.self,
        ]
    )
}
