/// The one error type of the core library. `code` decides the process exit status; the message is
/// available in Chinese and English so the CLI can print it in the officer's language.
public struct EvidenceError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case usage            // bad argument or option value
        case notFound         // missing file, unknown evidence ID, missing node home
        case exists           // refusing to overwrite (re-init)
        case dataError        // malformed input data (a proof, a key, a note)
        case ioError          // disk full, read-only store, unreadable or corrupt database
        case verification     // something does not verify
        case internalError    // self-test failure, library misbehaviour
        case unavailable      // a peer node could not be reached or broke off (try again later)
        case denied           // a peer refused our request (not a member, bad signature)

        /// Exit status documented in sxevidence(1), EXIT STATUS.
        public var exitStatus: Int32 {
            switch self {
            case .verification: return 1
            case .usage: return 64
            case .dataError: return 65
            case .notFound: return 66
            case .internalError: return 70
            case .exists: return 73
            case .ioError: return 74
            case .unavailable: return 75
            case .denied: return 77
            }
        }
    }

    public let code: Code
    public let zh: String
    public let en: String

    public init(_ code: Code, zh: String, en: String) {
        self.code = code
        self.zh = zh
        self.en = en
    }

    public func message(_ lang: Language) -> String { lang == .zh ? zh : en }
    public var description: String { en }
}

/// Interface language: from `--lang`, else `LC_ALL`/`LC_MESSAGES`/`LANG` starting with "zh".
public enum Language: String, Sendable, CaseIterable {
    case zh, en

    public static func fromEnvironment(_ env: [String: String]) -> Language {
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let v = env[key], !v.isEmpty {
                return v.lowercased().hasPrefix("zh") ? .zh : .en
            }
        }
        return .en
    }

    /// Pick the string for this language.
    public func pick(_ zh: String, _ en: String) -> String { self == .zh ? zh : en }
}
