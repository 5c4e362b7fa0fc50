import ArgumentParser
import Foundation
import SXEvidenceCore

extension Language: ExpressibleByArgument {}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Node home directory (default: $SXEVIDENCE_HOME, else ~/.sxevidence). 节点目录。")
    var home: String?

    @Option(help: "Message language: zh or en (default: from LANG). 界面语言。")
    var lang: Language?

    @Flag(help: "Machine-readable JSON on stdout. 输出 JSON。")
    var json = false

    var language: Language { lang ?? Language.fromEnvironment(ProcessInfo.processInfo.environment) }
    var homePath: String { NodeHome.resolve(home, env: ProcessInfo.processInfo.environment) }

    func console() -> Console { Console(lang: language, json: json) }
}
