#!/usr/bin/env python3
"""Verify one web capture as sxevidence-capture(5), VERIFICATION, steps 2 to 6 describe it, written
from the man page and not from the Swift code: check_capture.py ENTRY.json MANIFEST.json CAPTURE.warc.gz

Accepts both manifest formats: sxevidence-capture/2 (environment record and capture log in canonical
JSON, checked by re-encoding) and sxevidence-capture/1 (those two blocks only hashed, never
re-serialized). Prints "OK: <format> <n> records" and exits 0, or prints the failure and exits 1."""
import hashlib, json, sys, zlib

FORMATS = ("sxevidence-capture/1", "sxevidence-capture/2")


def canonical(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def main(entry_path, manifest_path, warc_path):
    entry = json.load(open(entry_path))
    raw = open(manifest_path, "rb").read()
    w = open(warc_path, "rb").read()
    # Step 2 and 4: the entry's artifacts are the manifest and the WARC, in this order.
    arts = entry["artifacts"]
    assert [a["name"] for a in arts] == ["manifest.json", "capture.warc.gz"], "artifact names"
    for a, b in ((arts[0], raw), (arts[1], w)):
        assert a["size"] == len(b) and a["sha256"] == hashlib.sha256(b).hexdigest(), a["name"] + " digest"
    # Step 3: the manifest is canonical, of a known format, and agrees with the entry.
    m = json.loads(raw)
    assert raw == canonical(m), "manifest not canonical"
    assert m["format"] in FORMATS, "unknown manifest format " + repr(m["format"])
    for k in ("case", "officer", "method", "node"):
        assert m[k] == entry[k], "manifest " + k
    assert m.get("note") == entry.get("note"), "manifest note"
    a = m["artifacts"][0]
    assert (a["name"], a["size"], a["sha256"]) == ("capture.warc.gz", len(w), hashlib.sha256(w).hexdigest())
    # Step 5: the records.
    recs, blocks, pos = [], {}, 0
    while w:
        z = zlib.decompressobj(31)
        r = z.decompress(w) + z.flush()
        assert z.eof, "gzip member"
        used = len(w) - len(z.unused_data)
        w = z.unused_data
        head, _, rest = r.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        assert lines[0] == "WARC/1.1"
        f = dict(l.split(": ", 1) for l in lines[1:])
        n = int(f["Content-Length"])
        block = rest[:n]
        assert len(block) == n and rest[n:] == b"\r\n\r\n", "record framing"
        h = hashlib.sha256(block).hexdigest()
        assert f["WARC-Block-Digest"] == "sha256:" + h, "block digest"
        e = {"block_sha256": h, "date": f["WARC-Date"], "id": f["WARC-Record-ID"],
             "length": used, "offset": pos, "type": f["WARC-Type"]}
        if "WARC-Target-URI" in f:
            e["uri"] = f["WARC-Target-URI"]
        if f["WARC-Type"] == "response":
            http, _, body = block.partition(b"\r\n\r\n")
            e["payload_sha256"] = hashlib.sha256(body).hexdigest()
            assert f["WARC-Payload-Digest"] == "sha256:" + e["payload_sha256"], "payload digest"
            hl = http.decode("utf-8", "replace").split("\r\n")
            e["status"] = int(hl[0].split(" ")[1])
            ct = [v.strip(" \t") for k, _, v in (l.partition(":") for l in hl[1:]) if k.lower() == "content-type"]
            if ct:
                e["mime"] = ct[0]
        pos += used
        recs.append(e)
        blocks[e.get("uri")] = block
    assert recs == m["warc_records"], "warc_records"
    # Step 6: the environment record and the capture log.
    for uri, key in (("urn:sxevidence:environment", "environment_sha256"),
                     ("urn:sxevidence:capture-log", "capture_log_sha256")):
        b = blocks[uri]
        assert hashlib.sha256(b).hexdigest() == m[key], key
        v = json.loads(b)
        assert isinstance(v, dict), uri + " is not an object"
        if m["format"] == "sxevidence-capture/2":
            assert b == canonical(v), uri + " not canonical"
            assert not any(isinstance(x, float) for x in walk(v)), uri + " holds a fraction"
    log = json.loads(blocks["urn:sxevidence:capture-log"])
    assert (log["url"], log["outcome"]) == (m["url"], m["outcome"]), "capture log url/outcome"
    env = json.loads(blocks["urn:sxevidence:environment"])
    offset = "clock_offset_ms_vs_server_date" if m["format"] == "sxevidence-capture/2" else "clock_offset_seconds_vs_server_date"
    assert offset in env, "environment record lacks " + offset
    print("OK:", m["format"], len(recs), "records")


def walk(v):
    yield v
    if isinstance(v, dict):
        for x in v.values():
            yield from walk(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk(x)


if __name__ == "__main__":
    try:
        main(*sys.argv[1:4])
    except (AssertionError, KeyError, ValueError) as e:
        print("FAILED:", e)
        sys.exit(1)
