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
    /// What went wrong underneath (a `SQLiteError`, an errno, a domain value such as a fork proof), for
    /// callers that need more than the code; never shown instead of the message.
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, zh: String, en: String, cause: (any Error & Sendable)? = nil) {
        // Every message has both languages (a test keeps empty literals out of the sources); a message
        // built from data that came out empty falls back to the other language rather than to nothing.
        self.code = code
        self.zh = zh.isEmpty ? en : zh
        self.en = en.isEmpty ? zh : en
        self.cause = cause
    }

    public func message(_ lang: Language) -> String { lang == .zh ? zh : en }
    public var description: String { en }

    /// The first cause of type `T` in the chain (self excluded).
    public func cause<T>(as: T.Type) -> T? {
        var c: (any Error)? = cause
        while let e = c {
            if let t = e as? T { return t }
            c = (e as? EvidenceError)?.cause
        }
        return nil
    }

    // Factories, one per code, so a throw site reads as what happened.
    public static func usage(zh: String, en: String, cause: (any Error & Sendable)? = nil) -> EvidenceError { .init(.usage, zh: zh, en: en, cause: cause) }
    public static func notFound(zh: String, en: String, cause: (any Error & Sendable)? = nil) -> EvidenceError { .init(.notFound, zh: zh, en: en, cause: cause) }
    public static func exists(zh: String, en: String, cause: (any Error & Sendable)? = nil) -> EvidenceError { .init(.exists, zh: zh, en: en, cause: cause) }
    public static func dataError(zh: String, en: String, cause: (any Error & Sendable)? = nil) -> EvidenceError { .init(.dataError, zh: zh, en: en, cause: cause) }
    public static func ioError(zh: String, en: String, cause: (any Error & Sendable)? = nil) -> EvidenceError { .init(.ioError, zh: zh, en: en, cause: cause) }
    public static func verification(zh: String, en: String, cause: (any Error & Sendable)? = nil) -> EvidenceError { .init(.verification, zh: zh, en: en, cause: cause) }
    public static func internalError(zh: String, en: String, cause: (any Error & Sendable)? = nil) -> EvidenceError { .init(.internalError, zh: zh, en: en, cause: cause) }
    public static func unavailable(zh: String, en: String, cause: (any Error & Sendable)? = nil) -> EvidenceError { .init(.unavailable, zh: zh, en: en, cause: cause) }
    public static func denied(zh: String, en: String, cause: (any Error & Sendable)? = nil) -> EvidenceError { .init(.denied, zh: zh, en: en, cause: cause) }

    /// Any error as an `EvidenceError`: itself, or an internal error carrying it as the cause.
    public static func wrap(_ error: any Error) -> EvidenceError {
        if let e = error as? EvidenceError { return e }
        return EvidenceError(.internalError, zh: "内部错误：\(error)", en: "internal error: \(error)", cause: error)
    }
}

/// Errors compare by code: two refusals of the same kind are the same outcome whatever the wording.
extension EvidenceError: Equatable {
    public static func == (a: EvidenceError, b: EvidenceError) -> Bool { a.code == b.code }
}

extension EvidenceError.Code {
    /// `catch let e as EvidenceError where e.code == .x`, shortened: `if EvidenceError.Code.x ~= error`.
    public static func ~= (code: EvidenceError.Code, error: any Error) -> Bool {
        (error as? EvidenceError)?.code == code
    }
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
