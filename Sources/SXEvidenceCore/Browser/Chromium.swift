import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Chromium the capture starts and drives over `--remote-debugging-pipe`, with a profile of
/// its own (fresh, in the capture's temporary folder) unless the officer gave one, every request
/// through the recording proxy, and nothing that would reach the network around it.
public final class Chromium: @unchecked Sendable {
    public struct Launch: Sendable {
        public var proxyPort: Int
        /// `--ignore-certificate-errors-spki-list`: the capture CA's leaf key, the one key trusted
        /// beyond the system's roots.
        public var trustedSPKI: String
        /// Fresh profile folder (made and removed by the caller), or the officer's prepared one.
        public var userDataDir: String
        public var preparedProfile = false
        public var headless = true
        public var width = 1280
        public var height = 800
        public var scale = 1

        public init(proxyPort: Int, trustedSPKI: String, userDataDir: String) {
            self.proxyPort = proxyPort
            self.trustedSPKI = trustedSPKI
            self.userDataDir = userDataDir
        }
    }

    public let binary: String
    public let flags: [String]
    public let pid: pid_t
    public let devtools: DevTools
    let logPath: String
    private var exited = false

    /// `explicit`, else chromium, chromium-browser, google-chrome on PATH.
    public static func find(_ explicit: String?) -> String? {
        if let explicit { return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil }
        return Executables.find(["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"])
    }

    /// Every flag the capture's browser is started with (recorded in the environment record).
    public static func flags(_ l: Launch) -> [String] {
        var f = [
            "--remote-debugging-pipe",
            "--user-data-dir=\(l.userDataDir)",
            "--proxy-server=http://127.0.0.1:\(l.proxyPort)",
            // Chromium sends loopback straight to the socket unless told otherwise.
            "--proxy-bypass-list=<-loopback>",
            "--ignore-certificate-errors-spki-list=\(l.trustedSPKI)",
            "--disable-quic",
            "--webrtc-ip-handling-policy=disable_non_proxied_udp",
            "--force-webrtc-ip-handling-policy",
            "--dns-prefetch-disable",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-domain-reliability",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-client-side-phishing-detection",
            "--disable-features=NetworkPrediction,OptimizationHints,OptimizationGuideModelDownloading,MediaRouter,Translate,AutofillServerCommunication,InterestFeedContentSuggestions,DialMediaRouteProvider,NetworkTimeServiceQuerying,CertificateTransparencyComponentUpdater,PrivacySandboxSettings4",
            "--component-updater=disable-background-downloads",
            "--no-pings",
            "--metrics-recording-only",
            "--no-first-run",
            "--no-default-browser-check",
            "--password-store=basic",
            "--use-mock-keychain",
            "--mute-audio",
            "--hide-scrollbars",
            "--window-size=\(l.width),\(l.height)",
            "--force-device-scale-factor=\(l.scale)",
        ]
        if l.headless { f += ["--headless=new", "--disable-gpu"] }
        if getuid() == 0 { f.append("--no-sandbox") }   // Chromium refuses to run as root with its sandbox
        f.append("about:blank")
        return f
    }

    /// The WebRTC policy in the profile's preferences as well as on the command line (the flag
    /// alone has not stopped STUN in every Chromium build). Only written into a fresh profile.
    static func writeFreshPreferences(_ dir: String) throws {
        try POSIXFile.mkdirs("\(dir)/Default", mode: 0o700)
        let prefs = CanonicalValue.object([
            "webrtc": .object(["ip_handling_policy": .string("disable_non_proxied_udp"),
                               "multiple_routes_enabled": .bool(false), "nonproxied_udp_enabled": .bool(false)]),
            "net": .object(["network_prediction_options": .int(2)]),
            "profile": .object(["exit_type": .string("Normal")]),
        ])
        try POSIXFile.writeAtomically("\(dir)/Default/Preferences", prefs.canonicalBytes, mode: 0o600)
    }

    /// Start the browser; it is connected once this returns.
    public init(binary: String, launch: Launch, logPath: String) throws {
        if !launch.preparedProfile { try Self.writeFreshPreferences(launch.userDataDir) }
        self.binary = binary
        flags = Self.flags(launch)
        self.logPath = logPath
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw POSIXFile.ioError("pipe", "chromium") }
        // Close-on-exec, so that only the dup2'd copies (fd 3 and 4) reach the browser.
        for fd in toBrowser + fromBrowser { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Its own process group, so that stopping the capture stops every Chromium process.
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([binary] + flags).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, binary, &actions, &attr, argv, environ)
        close(toBrowser[0])
        close(fromBrowser[1])
        guard rc == 0 else {
            close(toBrowser[1])
            close(fromBrowser[0])
            let m = String(cString: strerror(rc))
            throw EvidenceError.unavailable(zh: "无法启动浏览器 \(binary)：\(m)", en: "cannot start the browser \(binary): \(m)")
        }
        pid = child
        devtools = DevTools(writeFD: toBrowser[1], readFD: fromBrowser[0])
        do {
            try devtools.call("Browser.getVersion", timeout: 30)
        } catch {
            stop()
            throw EvidenceError.unavailable(zh: "浏览器启动失败：\(lastLog())", en: "the browser did not start: \(lastLog())", cause: error)
        }
    }

    /// The end of the browser's own log, for an error message (escaped).
    public func lastLog() -> String {
        let bytes = (try? POSIXFile.readAll(logPath)) ?? []
        return Display.escape(String(decoding: bytes.suffix(600), as: UTF8.self))
    }

    /// SHA-256 of the program the browser process runs (the real executable, after any wrapper
    /// script has exec'd it) and of the file that was started.
    public func binaryDigests() -> (started: String?, running: String?, runningPath: String?) {
        let running = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"))
        return (EnvironmentRecord.fileSHA256(binary), EnvironmentRecord.fileSHA256("/proc/\(pid)/exe"), running)
    }

    /// Whether the browser process is still running.
    public var isRunning: Bool {
        if exited { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        return !exited
    }

    /// Close the browser (Browser.close, then SIGTERM and SIGKILL to its process group) and reap it.
    public func stop() {
        guard !exited else { return }
        if !devtools.isClosed { devtools.send("Browser.close") }
        for (signal, wait) in [(Int32(0), 3.0), (SIGTERM, 2.0), (SIGKILL, 2.0)] {
            if signal != 0 { kill(-pid, signal) }
            let deadline = Date().addingTimeInterval(wait)
            while Date() < deadline {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { exited = true; break }
                usleep(20_000)
            }
            if exited { break }
        }
        kill(-pid, SIGKILL)   // helpers (renderer, GPU, zygote) left in the group
    }

    deinit { stop() }
}
