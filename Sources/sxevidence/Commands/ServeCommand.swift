import ArgumentParser
import Foundation
import SXEvidenceCore
import SXEvidenceServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the node server: consortium sync and witness API, RFC 3161 TSA, health. 运行节点服务。",
        discussion: "Prints `listening HOST:PORT` on stdout once bound (port 0 picks a free port). Stops cleanly on SIGTERM or SIGINT.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Address to listen on, HOST:PORT (e.g. 127.0.0.1:8600).") var listen: String

    func run() async throws {
        let c = global.console()
        var config: NodeServer.Configuration?
        try c.run {
            let parts = listen.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else {
                throw usageError("--listen 须为 主机:端口：\(listen)", "--listen must be HOST:PORT: \(listen)")
            }
            let home = try NodeHome.open(global.homePath)
            var tsa: TimeStampAuthority?
            if POSIXFile.exists(home.path + "/tsa/tsa.pem") {
                tsa = try TimeStampAuthority(chainPEM: try POSIXFile.readText(home.path + "/tsa/tsa.pem") + POSIXFile.readText(home.path + "/tsa/ca.pem"),
                                             keyPEM: try POSIXFile.readText(home.path + "/tsa/tsa.key"),
                                             policy: try POSIXFile.readText(home.path + "/tsa/policy").trimmingCharacters(in: .whitespacesAndNewlines))
            }
            // The consortium API is served once the node holds a policy (or could receive one).
            let service = try ConsortiumService(homePath: home.path)
            config = NodeServer.Configuration(host: String(parts[0]), port: port, tsa: tsa, nodeID: home.config.nodeID, consortium: service)
        }
        let host = config!.host
        // One line on stdout once the port is bound ("listening HOST:PORT"), for scripts that pass port 0.
        try await NodeServer.buildApplication(config!) { port in
            c.warn("节点服务监听 \(host):\(port)", "node server listening on \(host):\(port)")
            FileHandle.standardOutput.write(Data("listening \(host):\(port)\n".utf8))
        }.runService()
    }
}
