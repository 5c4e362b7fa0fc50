#!/usr/bin/env python3
"""Send one request to an sxevidence node, signed as sxevidence-consortium(5) AUTHENTICATION says,
written from the man page alone (Python standard library + the openssl command for Ed25519).

Usage: signed_request.py --key ED25519_PEM --node ID --to ID [--method M] [--body FILE] [--claim HEX]
                         [--time T] [--nonce HEX] [--authority HOST[:PORT]] URL
Signs sxevidence-request/2 for destination node --to at the URL's host[:port] (lowercased, sent as
the Host header). Prints the HTTP status on the first line, then the body. --claim signs (and sends)
another body digest than the real one; --time and --nonce fix those fields (to test staleness and
replay); --authority signs another authority than the URL's (the Host header sent stays the URL's).
"""
import argparse, base64, hashlib, os, subprocess, sys, tempfile, time, urllib.error, urllib.parse, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--key", required=True)
ap.add_argument("--node", required=True)
ap.add_argument("--to", required=True)
ap.add_argument("--authority")
ap.add_argument("--method", default="GET")
ap.add_argument("--body")
ap.add_argument("--claim")
ap.add_argument("--time", type=int)
ap.add_argument("--nonce")
ap.add_argument("url")
a = ap.parse_args()

body = open(a.body, "rb").read() if a.body else b""
digest = a.claim or hashlib.sha256(body).hexdigest()
t = a.time if a.time is not None else int(time.time())
nonce = a.nonce or os.urandom(16).hex()
u = urllib.parse.urlsplit(a.url)
target = u.path + ("?" + u.query if u.query else "")
host = u.netloc.lower()
authority = a.authority if a.authority is not None else host
msg = "sxevidence-request/2\n%s\n%s\n%s\n%s\n%s\n%s\n%d\n%s\n" % (a.method, target, digest, a.node, a.to, authority, t, nonce)
with tempfile.NamedTemporaryFile() as f:
    f.write(msg.encode())
    f.flush()
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", a.key, "-rawin", "-in", f.name],
                         check=True, capture_output=True).stdout
headers = {"Host": host, "SX-Node": a.node, "SX-To": a.to, "SX-Time": str(t), "SX-Nonce": nonce,
           "SX-Signature": base64.b64encode(sig).decode(), "SX-Content-SHA256": digest}
req = urllib.request.Request(a.url, data=body if a.method != "GET" else None, method=a.method, headers=headers)
try:
    with urllib.request.urlopen(req, timeout=30) as r:
        status, data = r.status, r.read()
except urllib.error.HTTPError as e:
    status, data = e.code, e.read()
sys.stdout.write("%d\n" % status)
sys.stdout.flush()
sys.stdout.buffer.write(data)
