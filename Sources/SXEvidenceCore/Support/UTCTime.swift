import Foundation

/// Times in every format are RFC 3339 UTC with milliseconds: `2026-11-29T01:02:03.456Z`.
public enum UTCTime {
    public static func now() -> String { format(Date()) }

    public static func format(_ date: Date) -> String {
        var t = time_t(floor(date.timeIntervalSince1970))
        let ms = Int((date.timeIntervalSince1970 - Double(t)) * 1000)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                      Int(tmv.tm_year) + 1900, Int(tmv.tm_mon) + 1, Int(tmv.tm_mday),
                      Int(tmv.tm_hour), Int(tmv.tm_min), Int(tmv.tm_sec), min(ms, 999))
    }
}
