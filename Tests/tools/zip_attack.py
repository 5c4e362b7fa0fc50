#!/usr/bin/env python3
"""Rewrite an evidence bundle's ZIP container with one layout attack, for BundleAttackTests.

Usage: zip_attack.py IN OUT ATTACK [ARG]
  same            rewrite in the writer's own layout (must still verify)
  zip64           the same with a ZIP64 end record and locator, end record fields saturated (must verify)
  zip64gap        the same with one byte between the ZIP64 locator and the end record
  decoy           a second central directory + end record (naming a forged bundle.json) after the real one
  comment         a nonzero end-record comment
  trailing        bytes after the end record
  gap             one byte between the first two entries
  descriptor      the last entry written with flag bit 3 and a data descriptor
  case            an extra entry differing from an existing name only in case
  dot             an extra entry whose name ends in '.'
  nfd             an extra entry whose name is in NFD (e + combining acute)
  filedir         an extra entry "bundle.json/x" (bundle.json is a file)
  symlink         an extra entry with Unix external attributes of a symbolic link
  idforge ID      bundle.json's first item ID replaced by ID (digests kept consistent)
The container is written by this script's own writer: stored entries from offset 0, no descriptor,
one central directory, one end record without comment -- exactly the layout sxevidence writes.
"""
import json, struct, sys, zipfile, zlib


def read(path):
    z = zipfile.ZipFile(path)
    return [(i.filename.encode(), z.read(i.filename)) for i in z.infolist()]


def write(entries, descriptor_last=False, gap=False, ext=None):
    out = bytearray()
    cd = bytearray()
    ext = ext or {}
    for k, (name, data) in enumerate(entries):
        desc = descriptor_last and k == len(entries) - 1
        if gap and k == 1:
            out += b"\0"
        off = len(out)
        crc = zlib.crc32(data)
        flags = 0x0800 | (0x08 if desc else 0)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 0, 0, 0x5C21,
                           0 if desc else crc, 0 if desc else len(data), 0 if desc else len(data), len(name), 0)
        out += name + data
        if desc:
            out += struct.pack("<IIII", 0x08074B50, crc, len(data), len(data))
        attr = ext.get(name, 0o100644 << 16)
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, flags, 0, 0, 0x5C21, crc,
                          len(data), len(data), len(name), 0, 0, 0, 0, attr, off)
        cd += name
    start = len(out)
    out += cd
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd), start, 0)
    return bytes(out), start, len(cd)


def main():
    src, dst, attack = sys.argv[1:4]
    arg = sys.argv[4] if len(sys.argv) > 4 else None
    entries = read(src)
    kw = {}
    if attack == "idforge":
        d = dict(entries)
        idx = json.loads(d[b"bundle.json"])
        idx["items"][0]["id"] = arg      # only the item's ID: its paths, and every digest, unchanged
        raw = json.dumps(idx, ensure_ascii=False, separators=(",", ":"))
        entries = [(n, raw.encode() if n == b"bundle.json" else b) for n, b in entries]
    elif attack == "case":
        entries.append((b"BUNDLE.json", b"{}"))
    elif attack == "dot":
        entries.append((b"README.txt.", b"x"))
    elif attack == "nfd":
        entries.append(("items/caf\u00e9".encode(), b"x"))
        entries.append(("items/cafe\u0301".encode(), b"y"))
    elif attack == "nfdonly":
        entries.append(("items/cafe\u0301".encode(), b"y"))
    elif attack == "filedir":
        entries.append((b"bundle.json/x", b"x"))
    elif attack == "symlink":
        entries.append((b"items/link", b"/etc/passwd"))
        kw["ext"] = {b"items/link": 0o120777 << 16}
    elif attack == "descriptor":
        kw["descriptor_last"] = True
    elif attack == "gap":
        kw["gap"] = True
    data, start, size = write(entries, **kw)
    if attack in ("zip64", "zip64gap"):
        n = len(entries)
        body = data[:-22]
        z64 = len(body)
        rec = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, size, start)
        loc = struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
        end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
        data = body + rec + loc + (b"\0" if attack == "zip64gap" else b"") + end
    if attack == "comment":
        data = data[:-2] + struct.pack("<H", 4) + b"note"
    elif attack == "trailing":
        data += b"\0" * 16
    elif attack == "decoy":
        # a forged copy of every entry is appended after the real end record, with its own directory
        # and end record: a reader that scans backward for the end record sees only the decoy
        forged = [(n, b.replace(b"SX-KQ-1", b"SX-KQ-9") if n == b"bundle.json" else b) for n, b in entries]
        extra, _, _ = write(forged)
        # shift the decoy's offsets by the length of the real ZIP
        base = len(data)
        zb = bytearray(extra)
        e_off = len(zb) - 22
        cnt, cds, cdo = struct.unpack_from("<HII", zb, e_off + 10)
        p = cdo
        for _ in range(cnt):
            lho = struct.unpack_from("<I", zb, p + 42)[0]
            struct.pack_into("<I", zb, p + 42, lho + base)
            n = struct.unpack_from("<H", zb, p + 28)[0]
            p += 46 + n
        struct.pack_into("<I", zb, e_off + 16, cdo + base)
        data = data + bytes(zb)
    elif attack not in ("same", "zip64", "zip64gap", "idforge", "case", "dot", "nfd", "nfdonly", "filedir", "symlink",
                        "descriptor", "gap"):
        sys.exit("unknown attack " + attack)
    with open(dst, "wb") as f:
        f.write(data)


main()
