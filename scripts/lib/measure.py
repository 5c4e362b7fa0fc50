#!/usr/bin/env python3
"""measure.py [--stdin FILE] -- CMD...: run CMD once; print `wall=S cpu=S maxrss_mib=M status=N` (stdout of CMD discarded)."""
import os, resource, subprocess, sys, time

args = sys.argv[1:]
stdin = None
if args[:1] == ["--stdin"]:
    stdin = open(args[1], "rb")
    args = args[2:]
if args[:1] == ["--"]:
    args = args[1:]
before = resource.getrusage(resource.RUSAGE_CHILDREN)
t = time.perf_counter()
p = subprocess.run(args, stdin=stdin, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print("wall=%.3f cpu=%.3f maxrss_mib=%.1f status=%d" % (wall, cpu, after.ru_maxrss / 1024, p.returncode))
