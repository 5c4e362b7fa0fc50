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

    /// Seconds since the epoch of an RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SS[.fff…]Z`; nil for
    /// anything else (no other offsets, no leap seconds, years 1970–9999).
    public static func parse(_ s: String) -> Double? {
        let b = Array(s.utf8)
        guard b.count >= 20, b.last == 0x5A else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }; v = v * 10 + Int(b[i] - 0x30) }
            return v
        }
        guard b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A,
              let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16), let sec = num(17..<19),
              y >= 1970, (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 60 else { return nil }
        var frac = 0.0
        if b.count > 20 {
            guard b[19] == 0x2E, b.count > 21, b.count <= 30, let f = num(20..<(b.count - 1)) else { return nil }
            frac = Double(f) / pow(10, Double(b.count - 21))
        } else { guard b[19] == 0x5A else { return nil } }
        var t = tm()
        t.tm_year = Int32(y - 1900); t.tm_mon = Int32(mo - 1); t.tm_mday = Int32(d)
        t.tm_hour = Int32(h); t.tm_min = Int32(mi); t.tm_sec = Int32(sec)
        let secs = timegm(&t)
        // timegm normalises impossible dates (31 February); refuse them.
        var back = tm()
        var tt = secs
        gmtime_r(&tt, &back)
        guard back.tm_mday == Int32(d), back.tm_mon == Int32(mo - 1) else { return nil }
        return Double(secs) + frac
    }
}
