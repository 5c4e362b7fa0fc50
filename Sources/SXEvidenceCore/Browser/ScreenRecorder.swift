import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A screen recording (录屏) of a browser session: JPEG frames from DevTools screencast (which
/// sends a frame only when the page changes) become an H.264 MP4 at a constant `fps`, with the
/// 北京时间 clock (from each frame's time, not from the TZ database) and the current URL burnt in
/// (sxevidence-capture(5), SCREEN RECORDING). A writer thread emits the latest frame every
/// 1/fps of wall time, repeating it when none came, so the video lasts as long as the session.
/// Only the latest frame is held; a frame that arrives while another waits replaces it.
public final class ScreenRecorder: @unchecked Sendable {
    public let output: String
    public let fps: Int
    public let startedUTC: String
    public let command: [String]
    private let start: Date
    private let process = Process()
    private let stdin = Pipe()
    private let urlFile: String
    private let errFile: String
    private let lock = NSCondition()
    private var latest: [UInt8]
    private var frames = 0
    private var stopping = false
    private var writerDone = false
    private var broken = false

    /// The font for the burnt-in text (a CJK one: the clock says 北京时间, URLs may be Chinese).
    /// Height of the band above the page that carries the clock and the URL.
    public static let band = 72

    public static func defaultFont() -> String? {
        ["/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
         "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"].first { FileManager.default.fileExists(atPath: $0) }
    }

    public init(ffmpeg: String, output: String, workDir: String, fps: Int = 5, width: Int = 1280, height: Int = 800,
                fontFile: String? = ScreenRecorder.defaultFont()) throws {
        signal(SIGPIPE, SIG_IGN)
        self.output = output
        self.fps = max(1, min(fps, 30))
        urlFile = "\(workDir)/recording-url.txt"
        errFile = "\(workDir)/recording-ffmpeg.log"
        try POSIXFile.writeAtomically(urlFile, Array(" ".utf8), mode: 0o600)
        latest = try Self.blankFrame(ffmpeg: ffmpeg, width: width, height: height)
        start = Date()
        startedUTC = UTCTime.format(start)
        let epoch = Int(start.timeIntervalSince1970) + 8 * 3600
        let font = fontFile.map { "fontfile=\($0):" } ?? ""
        // Filter-script escaping (two levels, the option value then the expansion): "\\:" between the
        // expansion's arguments, six backslashes before the time format's colons.
        // The page keeps its full size; the clock and the URL go on a black band above it, so
        // that nothing of the page is hidden.
        let filter = "scale=\(width):\(height):force_original_aspect_ratio=decrease,pad=\(width):\(height):(ow-iw)/2:(oh-ih)/2,"
            + "pad=\(width):\(height + Self.band):0:\(Self.band):black,"
            + "drawtext=\(font)fontsize=24:fontcolor=white:x=10:y=8:"
            + "text=%{pts\\\\:gmtime\\\\:\(epoch)\\\\:%Y-%m-%d %H\\\\\\\\\\\\:%M\\\\\\\\\\\\:%S} 北京时间,"
            + "drawtext=\(font)fontsize=20:fontcolor=white:x=10:y=42:textfile=\(urlFile):reload=1:expansion=none"
        let filterFile = "\(workDir)/recording-filter.txt"
        try POSIXFile.writeAtomically(filterFile, Array(filter.utf8), mode: 0o600)
        command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "image2pipe", "-framerate", "\(self.fps)", "-c:v", "mjpeg",
                   "-i", "-", "-filter_script:v", filterFile, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                   "-movflags", "+faststart", output]
        FileManager.default.createFile(atPath: errFile, contents: nil)
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments = Array(command.dropFirst())
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: errFile)
        do { try process.run() } catch {
            throw EvidenceError.unavailable(zh: "无法启动 ffmpeg：\(error)", en: "cannot start ffmpeg: \(error)")
        }
        let t = Thread { self.writeLoop() }
        t.name = "sxevidence screen recorder"
        t.start()
    }

    /// A grey frame for the time before the first screencast frame.
    static func blankFrame(ffmpeg: String, width: Int, height: Int) throws -> [UInt8] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ffmpeg)
        p.arguments = ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=\(width)x\(height)", "-frames:v", "1",
                       "-f", "mjpeg", "-"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch {
            throw EvidenceError.unavailable(zh: "无法启动 ffmpeg：\(error)", en: "cannot start ffmpeg: \(error)")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, !data.isEmpty else {
            throw EvidenceError.unavailable(zh: "ffmpeg 无法生成空白帧", en: "ffmpeg could not make a blank frame")
        }
        return [UInt8](data)
    }

    /// The newest picture of the page (JPEG).
    public func frame(jpeg: [UInt8]) {
        lock.withLock { latest = jpeg }
    }

    /// The URL burnt in from now on (control characters removed, at most 300 characters).
    public func setURL(_ url: String) {
        let clean = String(String.UnicodeScalarView(url.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }).prefix(300))
        try? POSIXFile.writeAtomically(urlFile, Array((clean.isEmpty ? " " : clean).utf8), mode: 0o600)
    }

    private func writeLoop() {
        defer { lock.withLock { writerDone = true; lock.broadcast() } }
        let fd = stdin.fileHandleForWriting.fileDescriptor
        while true {
            let (frame, stop, n) = lock.withLock { (latest, stopping, frames) }
            // Frames due by now: one per 1/fps of wall time since the start.
            let due = Int(Date().timeIntervalSince(start) * Double(fps)) + 1
            if n < due {
                guard frame.withUnsafeBytes({ POSIXFile.writeAll(fd, $0) }) else {
                    lock.withLock { broken = true }
                    return
                }
                lock.withLock { frames += 1 }
                continue
            }
            if stop { return }
            usleep(UInt32(1_000_000 / fps / 4))
        }
    }

    /// Stop, let ffmpeg finish the file, and return it with its length in seconds (frames / fps).
    public func finish(timeoutSeconds: Double = 120) throws -> (path: String, seconds: Double, frames: Int) {
        lock.withLock { stopping = true }
        lock.withLock { while !writerDone { lock.wait() } }
        try? stdin.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let n = lock.withLock { frames }
        let failed = lock.withLock { broken } || process.terminationStatus != 0 || !FileManager.default.fileExists(atPath: output)
        if failed {
            let tail = Display.escape(String(decoding: ((try? POSIXFile.readAll(errFile)) ?? []).suffix(400), as: UTF8.self))
            unlink(output)
            throw EvidenceError.unavailable(zh: "录屏失败（ffmpeg 退出码 \(process.terminationStatus)）：\(tail)",
                                            en: "the screen recording failed (ffmpeg exit \(process.terminationStatus)): \(tail)")
        }
        return (output, Double(n) / Double(fps), n)
    }

    /// Stop without a recording: ffmpeg killed, the partial file removed.
    public func abort() {
        lock.withLock { stopping = true }
        if process.isRunning { process.terminate() }
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        lock.withLock { while !writerDone { lock.wait() } }
        unlink(output)
    }
}
