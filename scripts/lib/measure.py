#!/usr/bin/env python3
"""measure.py [--stdin FILE] [--rss-trace] -- CMD...: run CMD once; print
`wall=S cpu=S maxrss_mib=M own_peak_rss_mib=M status=N` (stdout of CMD discarded). maxrss_mib is the
largest of CMD and every process it waited for (a browser it started, say); own_peak_rss_mib is CMD's
own peak (VmHWM, sampled every 10 ms until it exits). With --rss-trace, RSS is also sampled
every 0.5 s and `rss_after_warmup_min_mib=… rss_after_warmup_max_mib=…` are printed, over the samples
after the first quarter of the run (to show whether memory stays flat)."""
import resource, subprocess, sys, time

args = sys.argv[1:]
stdin = None
trace = False
while args and args[0] in ("--stdin", "--rss-trace"):
    if args[0] == "--stdin":
        stdin = open(args[1], "rb")
        args = args[2:]
    else:
        trace = True
        args = args[1:]
if args[:1] == ["--"]:
    args = args[1:]
before = resource.getrusage(resource.RUSAGE_CHILDREN)
t = time.perf_counter()
p = subprocess.Popen(args, stdin=stdin, stdout=subprocess.DEVNULL)
samples = []
own_peak = 0.0
next_trace = 0.0
while p.poll() is None:
    try:
        for line in open("/proc/%d/status" % p.pid):
            if line.startswith("VmHWM:"):
                own_peak = max(own_peak, int(line.split()[1]) / 1024)
    except OSError:
        pass
    if trace and time.perf_counter() - t >= next_trace:
        next_trace += 0.5
        try:
            for line in open("/proc/%d/status" % p.pid):
                if line.startswith("VmRSS:"):
                    samples.append((time.perf_counter() - t, int(line.split()[1]) / 1024))
        except OSError:
            pass
    time.sleep(0.01)
wall = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
out = "wall=%.3f cpu=%.3f maxrss_mib=%.1f own_peak_rss_mib=%.1f status=%d" % (wall, cpu, after.ru_maxrss / 1024, own_peak, p.returncode)
if trace:
    late = [r for (s, r) in samples if s >= wall / 4] or [0]
    out += " rss_after_warmup_min_mib=%.1f rss_after_warmup_max_mib=%.1f" % (min(late), max(late))
print(out)
