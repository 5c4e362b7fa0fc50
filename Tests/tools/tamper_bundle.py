#!/usr/bin/env python3
"""Make a tampered copy of an evidence bundle, one change at a time, for the tamper-matrix tests.

Usage: tamper_bundle.py IN OUT MEMBER MODE [ARGS...] [--refresh]
  MODE flip            flip one bit in the middle of MEMBER
  MODE sub OLD NEW     replace the first OLD with NEW in MEMBER (text)
  MODE line N TEXT     replace line N (0-based) of MEMBER with TEXT
  MODE sigflip NAME    change one character of the first signature line by key NAME
  MODE replace FILE    replace MEMBER's bytes with FILE's
--refresh  also rewrite MEMBER's size, sha256 and sm3 in bundle.json, as a forger would, so that
           only the deeper checks can catch the change.
Entries are written stored (uncompressed), like the originals.
"""
import hashlib, json, sys, zipfile

args = [a for a in sys.argv[1:] if a != "--refresh"]
refresh = "--refresh" in sys.argv
src, dst, member, mode = args[:4]
rest = args[4:]
zin = zipfile.ZipFile(src)
data = {i.filename: zin.read(i.filename) for i in zin.infolist()}
b = data[member]
if mode == "flip":
    i = len(b) // 2
    b = b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1:]
elif mode == "sub":
    old, new = rest[0].encode(), rest[1].encode()
    if old not in b:
        sys.exit("tamper: %r not in %s" % (rest[0], member))
    b = b.replace(old, new, 1)
elif mode == "line":
    lines = b.split(b"\n")
    lines[int(rest[0])] = rest[1].encode()
    b = b"\n".join(lines)
elif mode == "sigflip":
    # change one base64 character in the middle of the first signature line by key name REST[0]
    lines = b.split(b"\n")
    for k, l in enumerate(lines):
        if l.startswith(("\u2014 " + rest[0] + " ").encode()):
            head, sig = l.rsplit(b" ", 1)
            i = len(sig) // 2
            c = b"A" if sig[i:i + 1] != b"A" else b"B"
            lines[k] = head + b" " + sig[:i] + c + sig[i + 1:]
            break
    else:
        sys.exit("tamper: no signature line by " + rest[0])
    b = b"\n".join(lines)
elif mode == "replace":
    b = open(rest[0], "rb").read()
else:
    sys.exit("tamper: unknown mode " + mode)
data[member] = b
if refresh and member != "bundle.json":
    idx = json.loads(data["bundle.json"])
    for f in idx["files"]:
        if f["path"] == member:
            f["size"], f["sha256"], f["sm3"] = len(b), hashlib.sha256(b).hexdigest(), hashlib.new("sm3", b).hexdigest()
    data["bundle.json"] = json.dumps(idx, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    for i in zin.infolist():
        zout.writestr(i.filename, data[i.filename])
