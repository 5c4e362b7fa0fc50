"""RFC 6962 / RFC 9162 Merkle trees and sxevidence checkpoints, written from the RFC texts,
sxevidence-ledger(5) and C2SP signed-note with the Python standard library and the openssl command
only: nothing here shares code with sxevidence. Imported by check_tlog_proof.py and
verify_consistency.py."""
import base64, hashlib, os, subprocess, tempfile


def leaf(data):  # RFC 9162 §2.1.1: MTH({d}) = SHA-256(0x00 || d)
    return hashlib.sha256(b"\x00" + data).digest()


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def split(n):  # the largest power of two smaller than n
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def mth(leaves):  # RFC 9162 §2.1.1, over leaf hashes
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node(mth(leaves[:k]), mth(leaves[k:]))


def consistency_proof(m, leaves):  # RFC 6962 §2.1.2, PROOF(m, D[n]) = SUBPROOF(m, D[n], true)
    def sub(m, d, b):
        n = len(d)
        if m == n:
            return [] if b else [mth(d)]
        k = split(n)
        if m <= k:
            return sub(m, d[:k], b) + [mth(d[k:])]
        return sub(m - k, d[k:], False) + [mth(d[:k])]
    return sub(m, leaves, True)


def verify_inclusion(index, size, leaf_hash, path, root):  # RFC 9162 §2.1.3.2
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
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


def verify_consistency(m, n, root_m, root_n, proof):  # RFC 9162 §2.1.4.2
    if m < 1 or n < m:  # §2.1.4: proofs are defined for 0 < m <= n only (the vectors refuse m = 0)
        return False
    if m == n:
        return not proof and root_m == root_n
    if not proof:
        return False
    path = ([root_m] if m & (m - 1) == 0 else []) + list(proof)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root_m and sr == root_n and sn == 0


def b64(s):
    return base64.b64decode(s, validate=True)


def parse_note(note):
    """A signed checkpoint note: (text, origin, size, root, signature lines)."""
    text, sigs = note.rsplit("\n\n", 1)
    text += "\n"
    origin, size, root_b64 = text.split("\n")[:3]
    return text, origin, int(size), b64(root_b64), [l for l in sigs.split("\n") if l]


def check_signatures(text, origin, sig_lines, ed25519_pem, sm2_pem):
    """Both the Ed25519 and the SM2 signature of the node must verify: returns None or the reason."""
    if len(sig_lines) < 2:
        return "expected two signature lines"
    ok = {"ed25519": False, "sm2": False}
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "text"), "wb").write(text.encode())
        for l in sig_lines:
            dash, name, sig = l.split(" ")
            if dash != "\u2014" or name != origin:
                return "bad signature line"
            raw = b64(sig)[4:]
            open(os.path.join(d, "sig"), "wb").write(raw)
            if len(raw) == 64:
                r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", ed25519_pem, "-rawin",
                                    "-in", os.path.join(d, "text"), "-sigfile", os.path.join(d, "sig")], capture_output=True)
                ok["ed25519"] = ok["ed25519"] or r.returncode == 0
            else:
                r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", sm2_pem, "-rawin", "-digest", "sm3",
                                    "-pkeyopt", "distid:1234567812345678", "-in", os.path.join(d, "text"),
                                    "-sigfile", os.path.join(d, "sig")], capture_output=True)
                ok["sm2"] = ok["sm2"] or r.returncode == 0
    if not all(ok.values()):
        return "signature check: %r" % ok
    return None
