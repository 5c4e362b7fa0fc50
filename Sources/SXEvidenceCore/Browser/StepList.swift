import Foundation

/// A process-capture step list (过程取证, sxevidence-steps(5)): one step per line, `VERB ARGUMENT`,
/// performed in order in one browser session.
public struct Step: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case goto(String)
        case click(selector: String)
        case clickText(String)
        case type(selector: String, text: String)
        case press(String)
        case scroll(Int?)
        case waitFor(selector: String, seconds: Int)
        case waitForText(String, seconds: Int)
        case wait(Double)
        case screenshot(String)
        case note(String)
    }

    public let line: Int
    public let kind: Kind
    public let source: String

    /// The keys `press` knows (DevTools key names).
    public static let keys: Set<String> = ["Enter", "Tab", "Escape", "Backspace", "Delete", "Space", "ArrowUp", "ArrowDown",
                                           "ArrowLeft", "ArrowRight", "PageUp", "PageDown", "Home", "End"]

    static let verbs: [String: String] = [
        "goto": "goto", "前往": "goto", "click": "click", "点击": "click", "click-text": "click-text", "点击文字": "click-text",
        "type": "type", "输入": "type", "press": "press", "按键": "press", "scroll": "scroll", "滚动": "scroll",
        "wait-for": "wait-for", "等待": "wait-for", "wait-for-text": "wait-for-text", "等待文字": "wait-for-text",
        "wait": "wait", "暂停": "wait", "screenshot": "screenshot", "截图": "screenshot", "note": "note", "备注": "note",
    ]

    public var verb: String {
        switch kind {
        case .goto: "goto"
        case .click: "click"
        case .clickText: "click-text"
        case .type: "type"
        case .press: "press"
        case .scroll: "scroll"
        case .waitFor: "wait-for"
        case .waitForText: "wait-for-text"
        case .wait: "wait"
        case .screenshot: "screenshot"
        case .note: "note"
        }
    }

    static func bad(_ line: Int, _ zh: String, _ en: String) -> EvidenceError {
        .usage(zh: "步骤文件第 \(line) 行：\(zh)", en: "steps file line \(line): \(en)")
    }

    /// Parse a step list. Limits: 1 MiB, 500 steps, 8 KiB per line; every error names its line.
    public static func parse(_ bytes: [UInt8]) throws -> [Step] {
        guard bytes.count <= 1 << 20 else { throw EvidenceError.usage(zh: "步骤文件超过 1 MiB", en: "the steps file is over 1 MiB") }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw EvidenceError.usage(zh: "步骤文件不是 UTF-8 文本", en: "the steps file is not UTF-8 text")
        }
        var steps: [Step] = []
        // By scalar: "\r\n" is one Character in Swift, which Character-wise splitting would not split.
        for (k, raw) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).enumerated() {
            let n = k + 1
            guard raw.utf8.count <= 8192 else { throw bad(n, "行超过 8 KiB", "line over 8 KiB") }
            let line = (raw.hasSuffix("\r") ? raw.dropLast() : Substring(raw)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard !line.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else {
                throw bad(n, "含控制字符", "control character in the line")
            }
            let word = String(line.prefix { $0 != " " && $0 != "\t" })
            let arg = line.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
            guard let verb = verbs[word] else { throw bad(n, "未知步骤 \(Display.escape(word))", "unknown step \(Display.escape(word))") }
            steps.append(Step(line: n, kind: try kind(verb, arg, n), source: line))
            guard steps.count <= 500 else { throw EvidenceError.usage(zh: "步骤超过 500 个", en: "more than 500 steps") }
        }
        guard !steps.isEmpty else { throw EvidenceError.usage(zh: "步骤文件中没有步骤", en: "the steps file holds no step") }
        return steps
    }

    static func kind(_ verb: String, _ arg: String, _ n: Int) throws -> Kind {
        func need() throws -> String {
            guard !arg.isEmpty else { throw bad(n, "\(verb) 缺少参数", "\(verb) needs an argument") }
            return arg
        }
        /// "X within N s" → (X, N); N from 1 to 300, 30 when not given.
        func within() throws -> (String, Int) {
            let a = try need()
            guard let r = a.range(of: " within ", options: .backwards) else { return (a, 30) }
            let tail = a[r.upperBound...].trimmingCharacters(in: .whitespaces)
            guard tail.hasSuffix("s"), let s = Int(tail.dropLast().trimmingCharacters(in: .whitespaces)), (1...300).contains(s) else {
                throw bad(n, "within 后应为 1 到 300 秒", "within takes 1 to 300 s")
            }
            return (String(a[..<r.lowerBound]).trimmingCharacters(in: .whitespaces), s)
        }
        switch verb {
        case "goto":
            let u = try need()
            guard let url = URL(string: u), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw bad(n, "goto 只接受 http 或 https 网址", "goto takes an http or https URL")
            }
            return .goto(u)
        case "click": return .click(selector: try need())
        case "click-text": return .clickText(try need())
        case "type":
            let a = try need()
            guard let r = a.range(of: " => ") else { throw bad(n, "type 的格式为 选择器 => 文字", "type takes SELECTOR => TEXT") }
            let sel = a[..<r.lowerBound].trimmingCharacters(in: .whitespaces)
            guard !sel.isEmpty else { throw bad(n, "type 缺少选择器", "type needs a selector") }
            return .type(selector: sel, text: String(a[r.upperBound...]))
        case "press":
            let k = try need()
            guard keys.contains(k) else { throw bad(n, "未知按键 \(Display.escape(k))", "unknown key \(Display.escape(k))") }
            return .press(k)
        case "scroll":
            if arg.isEmpty { return .scroll(nil) }
            guard let px = Int(arg), (1...1_000_000).contains(px) else { throw bad(n, "scroll 的像素须为 1 到 1000000", "scroll takes 1 to 1000000 pixels") }
            return .scroll(px)
        case "wait-for":
            let (s, t) = try within()
            return .waitFor(selector: s, seconds: t)
        case "wait-for-text":
            let (s, t) = try within()
            return .waitForText(s, seconds: t)
        case "wait":
            guard let s = Double(try need()), s > 0, s <= 300 else { throw bad(n, "wait 须在 0 到 300 秒之间", "wait takes more than 0 and at most 300 seconds") }
            return .wait(s)
        case "screenshot":
            let name = try need()
            let ok = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".utf8)
            guard name.utf8.count <= 64, name.utf8.allSatisfy({ ok.contains($0) }) else {
                throw bad(n, "截图名只能用字母、数字、_ 和 -（最多 64 个）", "a screenshot name is up to 64 letters, digits, _ and -")
            }
            return .screenshot(name)
        default:
            return .note(arg)
        }
    }
}
