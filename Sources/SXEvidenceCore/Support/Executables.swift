import Foundation

/// Programs sxevidence starts (Chromium, ffmpeg), found on PATH.
public enum Executables {
    /// The first of `names` found as an executable file in a PATH folder, in PATH order.
    public static func find(_ names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in names {
            for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
                return "\(dir)/\(name)"
            }
        }
        return nil
    }
}
