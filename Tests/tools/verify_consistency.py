#!/usr/bin/env python3
"""Independent check of the consistency proof `sxevidence proof consistency M N` prints, written from
RFC 6962 §2.1.2, RFC 9162 §2.1.4.2 and sxevidence-ledger(5) with the Python standard library and the
openssl command only (see tlog.py).

usage: verify_consistency.py PROOF BODIES ED25519_PUB_PEM SM2_PUB_PEM [--json JSON]
       verify_consistency.py --vectors MERKLE_VECTORS_DIR

PROOF is the text output ("old M", the proof hashes, a blank line, the signed checkpoint of size N);
BODIES holds the ledger's canonical entry bytes, base64, one entry a line in index order. Both roots
are computed here from the entries; the checkpoint's two signatures must verify and its root must be
the computed root of size N; the proof must verify between the two computed roots and equal the
proof computed here. JSON, when given, is the --json output of the same command and must say the
same. Prints "OK" and exits 0, or "FAIL: why" and exits 1.

With --vectors, runs the verifier over the public RFC 6962 consistency vectors (testdata/consistency)
and the golang-mod-argon2020 log, and prints "OK <count>" when it agrees with every one.
"""
import json, os, sys

import tlog


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def vectors(root):
    n = 0
    for dirpath, _, files in os.walk(os.path.join(root, "testdata", "consistency")):
        for f in sorted(files):
            if not f.endswith(".json"):
                continue
            d = json.load(open(os.path.join(dirpath, f)))
            try:
                got = tlog.verify_consistency(d["size1"], d["size2"], tlog.b64(d.get("root1") or ""),
                                              tlog.b64(d.get("root2") or ""), [tlog.b64(p) for p in d.get("proof") or []])
            except Exception:  # noqa: BLE001 - a vector that does not even decode is refused
                got = False
            if got == d["wantErr"]:
                fail("%s: verifier says %s, the vector says wantErr=%s" % (os.path.join(dirpath, f), got, d["wantErr"]))
            n += 1
    argon = os.path.join(root, "golang-mod-argon2020")
    sth = json.load(open(os.path.join(argon, "sth.json")))
    cons = [tlog.b64(h) for h in json.load(open(os.path.join(argon, "consistency.json")))["consistency"]]
    old = tlog.b64("AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=")
    new = tlog.b64(sth["sha256_root_hash"])
    if not tlog.verify_consistency(3654490, sth["tree_size"], old, new, cons):
        fail("argon2020 consistency proof refused")
    if tlog.verify_consistency(3654491, sth["tree_size"], old, new, cons):
        fail("argon2020 consistency proof accepted for the wrong old size")
    print("OK %d" % (n + 2))


def main():
    if sys.argv[1] == "--vectors":
        return vectors(sys.argv[2])
    proof_text = open(sys.argv[1], encoding="utf-8").read()
    bodies = [tlog.b64(l) for l in open(sys.argv[2]).read().split("\n") if l]
    head, note = proof_text.split("\n\n", 1)
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        fail("no old size line")
    m = int(lines[0][4:])
    proof = [tlog.b64(x) for x in lines[1:]]
    text, origin, n, root, sig_lines = tlog.parse_note(note)
    if n > len(bodies):
        fail("checkpoint of size %d but only %d entries given" % (n, len(bodies)))
    why = tlog.check_signatures(text, origin, sig_lines, sys.argv[3], sys.argv[4])
    if why:
        fail(why)
    leaves = [tlog.leaf(b) for b in bodies]
    root_m, root_n = tlog.mth(leaves[:m]), tlog.mth(leaves[:n])
    if root != root_n:
        fail("the checkpoint's root is not the root of the first %d entries" % n)
    if not tlog.verify_consistency(m, n, root_m, root_n, proof):
        fail("consistency proof %d -> %d does not verify" % (m, n))
    if proof != tlog.consistency_proof(m, leaves[:n]):
        fail("the proof is not the RFC 6962 proof for %d -> %d" % (m, n))
    if len(sys.argv) > 6 and sys.argv[5] == "--json":
        j = json.load(open(sys.argv[6]))
        if (j["old"], j["new"]) != (m, n):
            fail("--json sizes %s %s" % (j["old"], j["new"]))
        if tlog.b64(j["old_root"]) != root_m or tlog.b64(j["new_root"]) != root_n:
            fail("--json roots differ from the computed roots")
        if [tlog.b64(h) for h in j["hashes"]] != proof:
            fail("--json hashes differ from the text proof")
        if j["checkpoint"] != note:
            fail("--json checkpoint differs from the text one")
    print("OK")


main()
