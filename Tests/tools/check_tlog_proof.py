#!/usr/bin/env python3
"""Independent check of an sxevidence inclusion proof, written from sxevidence-ledger(5) and the
C2SP/RFC texts with the Python standard library and the openssl command only (see tlog.py).

usage: check_tlog_proof.py PROOF CANONICAL_BYTES ED25519_PUB_PEM SM2_PUB_PEM
Prints "OK" and exits 0 when the entry's leaf is included under a checkpoint whose Ed25519 and
SM2 signatures both verify; otherwise prints the reason and exits 1.
"""
import sys

import tlog


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    proof_text = open(sys.argv[1], encoding="utf-8").read()
    body = open(sys.argv[2], "rb").read()
    head, note = proof_text.split("\n\n", 1)
    lines = head.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1" or not lines[1].startswith("index "):
        fail("not a tlog-proof")
    index = int(lines[1][6:])
    path = [tlog.b64(x) for x in lines[2:]]
    text, origin, size, root, sig_lines = tlog.parse_note(note)
    if not tlog.verify_inclusion(index, size, tlog.leaf(body), path, root):
        fail("inclusion proof does not verify")
    why = tlog.check_signatures(text, origin, sig_lines, sys.argv[3], sys.argv[4])
    if why:
        fail(why)
    print("OK")


main()
