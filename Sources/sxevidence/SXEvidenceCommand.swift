import ArgumentParser
import Foundation
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

extension SXEvidenceCommand {
    /// Parse, run, and report a usage error in the officer's language (`--lang`, else LANG):
    /// ArgumentParser's English message gets a Chinese first line, its help and usage lines stay.
    static func main() async {
        let args = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(args)
            if var a = command as? AsyncParsableCommand { try await a.run() } else { try command.run() }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
            } else if !message.isEmpty {
                let text = UsageText.localize(message, lang: UsageText.language(args))
                FileHandle.standardError.write(Data((Display.sanitizeLines(text) + "\n").utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}

/// Chinese wording for ArgumentParser's usage errors (sxevidence(1), LANGUAGE).
enum UsageText {
    static func language(_ args: [String]) -> Language {
        for (i, a) in args.enumerated() {
            if a == "--lang", i + 1 < args.count, let l = Language(rawValue: args[i + 1]) { return l }
            if a.hasPrefix("--lang="), let l = Language(rawValue: String(a.dropFirst(7))) { return l }
        }
        return Language.fromEnvironment(ProcessInfo.processInfo.environment)
    }

    static let patterns: [(String, String)] = [
        (#"^Error: Missing expected argument '(.*)'$"#, "错误：缺少参数 $1"),
        (#"^Error: Unknown option '(.*)'$"#, "错误：未知选项 $1"),
        (#"^Error: Unexpected argument '(.*)'$"#, "错误：多余的参数 $1"),
        (#"^Error: The value '(.*)' is invalid for '(.*)'(.*)$"#, "错误：$2 的取值 $1 无效$3"),
        (#"^Error: Missing value for '(.*)'$"#, "错误：$1 缺少取值"),
        (#"^Error: (.*)$"#, "错误：$1"),
    ]

    static func localize(_ message: String, lang: Language) -> String {
        guard lang == .zh else { return message }
        var lines = message.components(separatedBy: "\n")
        guard let first = lines.first else { return message }
        for (pattern, template) in patterns {
            guard let re = try? NSRegularExpression(pattern: pattern) else { continue }
            let range = NSRange(first.startIndex..., in: first)
            if re.firstMatch(in: first, range: range) != nil {
                lines[0] = re.stringByReplacingMatches(in: first, range: range, withTemplate: template)
                break
            }
        }
        lines = lines.map { $0.replacingOccurrences(of: "Usage:", with: "用法 Usage:").replacingOccurrences(of: "See '", with: "详见 See '") }
        return lines.joined(separator: "\n")
    }
}
