#!/usr/bin/env python3
"""Independent check of an sxevidence inclusion proof, written from sxevidence-ledger(5) and the
C2SP/RFC texts with the Python standard library and the openssl command only.

usage: check_tlog_proof.py PROOF CANONICAL_BYTES ED25519_PUB_PEM SM2_PUB_PEM
Prints "OK" and exits 0 when the entry's leaf is included under a checkpoint whose Ed25519 and
SM2 signatures both verify; otherwise prints the reason and exits 1.
"""
import base64, hashlib, os, subprocess, sys, tempfile


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def verify_inclusion(index, size, leaf, path, root):  # RFC 9162 §2.1.3.2
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def main():
    proof_text = open(sys.argv[1], encoding="utf-8").read()
    body = open(sys.argv[2], "rb").read()
    head, note = proof_text.split("\n\n", 1)
    lines = head.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1" or not lines[1].startswith("index "):
        fail("not a tlog-proof")
    index = int(lines[1][6:])
    path = [base64.b64decode(x, validate=True) for x in lines[2:]]
    text, sigs = note.rsplit("\n\n", 1)
    text += "\n"
    origin, size, root_b64 = text.split("\n")[:3]
    size, root = int(size), base64.b64decode(root_b64)
    leaf = hashlib.sha256(b"\x00" + body).digest()
    if not verify_inclusion(index, size, leaf, path, root):
        fail("inclusion proof does not verify")
    sig_lines = [l for l in sigs.split("\n") if l]
    if len(sig_lines) < 2:
        fail("expected two signature lines")
    ok = {"ed25519": False, "sm2": False}
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "text"), "wb").write(text.encode())
        for l in sig_lines:
            dash, name, sig = l.split(" ")
            if dash != "\u2014" or name != origin:
                fail("bad signature line")
            raw = base64.b64decode(sig)[4:]
            open(os.path.join(d, "sig"), "wb").write(raw)
            if len(raw) == 64:
                r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", sys.argv[3], "-rawin",
                                    "-in", os.path.join(d, "text"), "-sigfile", os.path.join(d, "sig")], capture_output=True)
                ok["ed25519"] = ok["ed25519"] or r.returncode == 0
            else:
                r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", sys.argv[4], "-rawin", "-digest", "sm3",
                                    "-pkeyopt", "distid:1234567812345678", "-in", os.path.join(d, "text"),
                                    "-sigfile", os.path.join(d, "sig")], capture_output=True)
                ok["sm2"] = ok["sm2"] or r.returncode == 0
    if not all(ok.values()):
        fail("signature check: %r" % ok)
    print("OK")


main()
