#ifndef CSXSYSTEM_SHIM_H
#define CSXSYSTEM_SHIM_H
// glibc declares syncfs and sync_file_range only under _GNU_SOURCE, which Swift's Glibc module does
// not set; these static inline shims are the one way SXEvidenceCore reaches them (Support/FileSync.swift).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <unistd.h>

static inline int sx_syncfs(int fd) {
    return syncfs(fd);
}

static inline int sx_sync_file_range(int fd, long long offset, long long nbytes) {
    return sync_file_range(fd, (off64_t)offset, (off64_t)nbytes, SYNC_FILE_RANGE_WRITE);
}
#endif
