import ArgumentParser
import Foundation
import SXEvidenceCore

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
                c.emit(TokenJSON(ok: true, genTime: info.genTime, serial: info.serial, policy: info.policy, algorithm: info.algorithm,
                                 imprint: info.imprint, accuracy: OrNull(info.accuracy), nonce: OrNull(info.nonce)))
            } else {
                c.out("✓ \(c.t("时间戳有效", "token verifies"))")
                c.out("  genTime: \(info.genTime)\n  serial: \(info.serial)\n  policy: \(info.policy)\n  \(info.algorithm): \(info.imprint)")
                if let a = info.accuracy { c.out("  accuracy: \(a)") }
            }
        }
    }
}

extension TimestampVerifyCommand {
    struct TokenJSON: Encodable {
        let ok: Bool, genTime: String, serial: String, policy: String, algorithm: String, imprint: String
        let accuracy: OrNull<String>, nonce: OrNull<String>
    }
}
