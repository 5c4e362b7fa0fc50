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

    /// Every human line passes the display backstop: control and bidi characters become `\u{…}`
    /// (fields from outside are escaped with Display.escape where they are put into the line).
    func out(_ s: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((Display.sanitizeLines(s) + terminator).utf8))
    }

    /// One JSON document on stdout, from the report type the text output is made from.
    func emit<T: Encodable>(_ value: T) {
        FileHandle.standardOutput.write(Data(Self.jsonLine(value).utf8))
    }

    /// `--json` output: Codable report types, keys in snake_case, sorted, no escaped slashes. JSON
    /// escapes C0 controls itself; bidi controls and C1 are escaped too, so a terminal showing the
    /// JSON cannot be reordered (they can only occur inside strings).
    static func jsonLine<T: Encodable>(_ value: T) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        enc.keyEncodingStrategy = .convertToSnakeCase
        let data = (try? enc.encode(value)) ?? Data("null".utf8)
        var out = ""
        for u in String(decoding: data, as: UTF8.self).unicodeScalars {
            if u.value >= 0x7F && Display.needsEscape(u.value) { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
        return out + "\n"
    }

    /// A line for the officer on stderr (not part of the scriptable output).
    func warn(_ zh: String, _ en: String) {
        FileHandle.standardError.write(Data((Display.sanitizeLines(t(zh, en)) + "\n").utf8))
    }

    var progressEnabled: Bool { !json && isatty(2) == 1 }

    func progress(_ text: String) {
        guard progressEnabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(Display.escape(text))".utf8))
    }

    func endProgress() {
        guard progressEnabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// Run a command body; an EvidenceError becomes a message on stderr and its documented exit status.
    func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as EvidenceError {
            endProgress()
            if json {
                FileHandle.standardError.write(Data(Self.jsonLine(ErrorReport(error: .init(code: e.code.rawValue, exit: Int(e.code.exitStatus),
                                                                                            message: e.message(lang)))).utf8))
            } else {
                FileHandle.standardError.write(Data((t("错误：", "error: ") + Display.sanitizeLines(e.message(lang)) + "\n").utf8))
            }
            throw ExitCode(e.code.exitStatus)
        }
    }
}

/// `--json` form of a failure, on stderr (sxevidence(1), JSON OUTPUT).
struct ErrorReport: Encodable {
    struct Detail: Encodable { let code: String; let exit: Int; let message: String }
    let error: Detail
}

/// A value that is written as JSON `null` when absent (a synthesized Encodable leaves the key out).
struct OrNull<T: Encodable>: Encodable {
    let value: T?
    init(_ value: T?) { self.value = value }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
}
