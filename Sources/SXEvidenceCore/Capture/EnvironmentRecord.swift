import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The capture environment (清洁性检查), recorded with every capture and hashed into the evidence.
/// Its members are canonical values: the record is written with the canonical writer
/// (sxevidence-capture(5), ENVIRONMENT RECORD; since sxevidence-capture/2).
enum EnvironmentRecord {
    /// Facts about this machine and tool, gathered once per command.
    static func machine() -> [String: CanonicalValue] {
        var u = utsname()
        uname(&u)
        func field<T>(_ t: T) -> String {
            withUnsafeBytes(of: t) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let env = ProcessInfo.processInfo.environment
        var proxies: [String: CanonicalValue] = [:]
        for k in ["http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"] {
            if let v = env[k] { proxies[k] = .string(v) }
        }
        let osRelease = (try? POSIXFile.readText("/etc/os-release")) ?? ""
        let pretty = osRelease.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { String($0.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? ""
        let resolvers = ((try? POSIXFile.readText("/etc/resolv.conf")) ?? "").split(separator: "\n")
            .filter { $0.hasPrefix("nameserver") || $0.hasPrefix("search") || $0.hasPrefix("options") }.map(String.init)
        let ca = TLSOptions.defaultCAFile
        var d: [String: CanonicalValue] = [
            "tool": .string("sxevidence \(SXEvidence.version)"),
            "tool_binary_sha256": .string(fileSHA256("/proc/self/exe") ?? "unavailable"),
            "libraries": .object(SXEvidence.libraryVersions.mapValues { .string($0) }),
            "os": .string(pretty),
            "kernel": .string("\(field(u.sysname)) \(field(u.release)) \(field(u.version)) \(field(u.machine))"),
            "hostname": .string(field(u.nodename)),
            "user": .string("\(env["USER"] ?? env["LOGNAME"] ?? "") (uid \(getuid()))"),
            "proxy_environment": .object(proxies),
            "resolv_conf": .strings(resolvers),
            "ca_bundle": .string(ca),
            "ca_bundle_sha256": .string(fileSHA256(ca) ?? "unavailable"),
            "local_time_utc": .string(UTCTime.now()),
        ]
        if let tz = env["TZ"] { d["tz"] = .string(tz) }
        return d
    }

    /// Per-host facts: /etc/hosts lines naming the host, and what the resolver answers.
    static func host(_ host: String) -> [String: CanonicalValue] {
        let hostsLines = ((try? POSIXFile.readText("/etc/hosts")) ?? "").split(separator: "\n")
            .filter { line in
                !line.hasPrefix("#") && line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().contains { $0 == host }
            }.map(String.init)
        return ["host": .string(host), "etc_hosts": .strings(hostsLines), "dns_answers": .strings(resolve(host))]
    }

    static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &res) == 0 else { return [] }
        defer { freeaddrinfo(res) }
        var out: [String] = []
        var p = res
        while let a = p {
            var buf = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(a.pointee.ai_addr, a.pointee.ai_addrlen, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST) == 0 {
                let s = String(cString: buf)
                if !out.contains(s) { out.append(s) }
            }
            p = a.pointee.ai_next
        }
        return out
    }

    static func fileSHA256(_ path: String) -> String? {
        guard !path.isEmpty, let fd = Optional(open(path, O_RDONLY | O_CLOEXEC)), fd >= 0 else { return nil }
        defer { close(fd) }
        let d = StreamingDigest(.sha256)
        guard (try? POSIXFile.readChunks(fd, name: path, chunkSize: 1 << 16, { d.update($0) })) != nil else { return nil }
        return Hex.encode(d.finish())
    }

    // Formatters are costly to make (ICU); captures run on one thread, so one of each is shared.
    static let httpDate: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f
    }()
    nonisolated(unsafe) static let isoDate: ISO8601DateFormatter = {
        let i = ISO8601DateFormatter()
        i.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return i
    }()

    /// Milliseconds the local clock is ahead of the server's Date header (negative: behind).
    static func clockOffsetMilliseconds(serverDate: String?, localISO: String) -> Int64? {
        guard let serverDate else { return nil }
        guard let s = httpDate.date(from: serverDate), let l = UTCTime.parse(localISO) else { return nil }
        let ms = ((l - s.timeIntervalSince1970) * 1000).rounded()
        return ms.isFinite && abs(ms) < 1e15 ? Int64(ms) : nil
    }
}
