internal import CSXSystem

/// Flushes that glibc declares only under _GNU_SOURCE, reached through the CSXSystem shim (the one
/// Swift file that imports it).
enum FileSync {
    /// Flush everything written to the file system holding `fd` (data, inodes, directory entries).
    static func syncfs(_ fd: Int32) -> Bool { sx_syncfs(fd) == 0 }

    /// Start writeback of `[offset, offset + count)` without waiting for it (SYNC_FILE_RANGE_WRITE).
    @discardableResult
    static func startWriteback(_ fd: Int32, offset: Int64, count: Int64) -> Bool {
        sx_sync_file_range(fd, offset, count) == 0
    }
}
