#!/usr/bin/env python3
"""Reads a browser capture's WARC with warcio (not with sxevidence) and prints one JSON summary:

  requests    [{uri, count}]               request records, counted per target URI
  responses   [{uri, status, truncated, payload_bytes}]
  resources   {uri: {sha256, sm3?, bytes, ctype}}   resource records (screenshots, DOM, ...),
              the digest computed here with hashlib over the block as warcio returns it
  metadata    {uri: text}                  metadata records with urn: URIs (JSON or PEM text)
  server      [{method, path, host, count}] the fixture server's own log (--log), counted
  udp         datagrams the fixture server received
  unrecorded  server requests with no request record of the same URL in the WARC
  extra_dir   with --extract DIR: each resource written there under its name (for OCR, pixel checks)

Usage: check_browser_capture.py WARC [--log SERVERLOG] [--extract DIR]
"""
import argparse, collections, hashlib, json, os, sys
from warcio.archiveiterator import ArchiveIterator


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("warc")
    ap.add_argument("--log")
    ap.add_argument("--extract")
    a = ap.parse_args()
    requests = collections.Counter()
    responses, resources, metadata = [], {}, {}
    with open(a.warc, "rb") as f:
        for r in ArchiveIterator(f):
            uri = r.rec_headers.get_header("WARC-Target-URI") or ""
            if r.rec_type == "request":
                requests[uri] += 1
            elif r.rec_type == "response":
                body = r.content_stream()
                n = 0
                while True:
                    chunk = body.read(1 << 20)
                    if not chunk:
                        break
                    n += len(chunk)
                responses.append({"uri": uri, "status": r.http_headers.get_statuscode(),
                                  "truncated": r.rec_headers.get_header("WARC-Truncated") or "", "payload_bytes": n})
            elif r.rec_type == "resource":
                data = r.raw_stream.read()
                resources[uri] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                                  "ctype": r.rec_headers.get_header("Content-Type") or "",
                                  "concurrent_to": r.rec_headers.get_header("WARC-Concurrent-To") or ""}
                if a.extract:
                    os.makedirs(a.extract, exist_ok=True)
                    with open(os.path.join(a.extract, uri.replace("urn:sxevidence:", "")), "wb") as out:
                        out.write(data)
            elif r.rec_type == "metadata" and uri.startswith("urn:"):
                metadata[uri] = r.raw_stream.read().decode("utf-8", "replace")
    out = {"requests": [{"uri": u, "count": c} for u, c in requests.items()], "responses": responses,
           "resources": resources, "metadata": metadata}
    if a.log:
        server = collections.Counter()
        udp = 0
        with open(a.log) as f:
            for line in f:
                e = json.loads(line)
                if "udp" in e:
                    udp += 1
                else:
                    server[(e["method"], e["path"], e["host"])] += 1
        out["server"] = [{"method": m, "path": p, "host": h, "count": c} for (m, p, h), c in server.items()]
        out["udp"] = udp
        out["unrecorded"] = [{"path": p, "host": h, "count": c} for (m, p, h), c in server.items()
                             if requests.get("http://%s%s" % (h, p), 0) < c]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
