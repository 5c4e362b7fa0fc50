import ArgumentParser
import Foundation
import SXEvidenceCore
#if canImport(Glibc)
import Glibc
#endif

/// Everything a command prints goes through here: localized text, JSON, progress and errors.
struct Console {
    let lang: Language
    let json: Bool

    func t(_ zh: String, _ en: String) -> String { lang.pick(zh, en) }

    /// A line of human output (suppressed under --json).
    func say(_ zh: String, _ en: String) {
        guard !json else { return }
        out(t(zh, en))
    }

    func out(_ s: String) {
        FileHandle.standardOutput.write(Data((s + "\n").utf8))
    }

    func emit(_ value: Any) {
        FileHandle.standardOutput.write(Data(jsonLine(value).utf8))
    }

    func jsonLine(_ value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// A line for the officer on stderr (not part of the scriptable output).
    func warn(_ zh: String, _ en: String) {
        FileHandle.standardError.write(Data((t(zh, en) + "\n").utf8))
    }

    var progressEnabled: Bool { !json && isatty(2) == 1 }

    func progress(_ text: String) {
        guard progressEnabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    func endProgress() {
        guard progressEnabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// Run a command body; an EvidenceError becomes a message on stderr and its documented exit status.
    func run(_ body: () throws -> Void) throws {
        do {
            do {
                try body()
            } catch let c as EvidenceErrorConvertible {
                throw c.evidenceError
            }
        } catch let e as EvidenceError {
            endProgress()
            if json {
                let obj: [String: Any] = ["error": ["code": e.code.rawValue, "exit": Int(e.code.exitStatus), "message": e.message(lang)]]
                if let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]) {
                    FileHandle.standardError.write(data + Data("\n".utf8))
                }
            } else {
                FileHandle.standardError.write(Data((t("错误：", "error: ") + e.message(lang) + "\n").utf8))
            }
            throw ExitCode(e.code.exitStatus)
        }
    }
}

func usageError(_ zh: String, _ en: String) -> EvidenceError { EvidenceError(.usage, zh: zh, en: en) }
