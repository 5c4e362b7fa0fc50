#!/usr/bin/env python3
"""Independent verifier of sxevidence court evidence bundles (sxevidence-bundle/1).

Written from the manual pages alone (sxevidence-bundle(5), with sxevidence-ledger(5),
sxevidence-consortium(5), sxevidence-timestamp(5) and sxevidence(1)), without the sxevidence
source, to show that the published specification suffices.  Python 3.11 standard library and
the openssl command (OpenSSL 3) only.

Usage: verify-bundle.py BUNDLE [--policy FILE] [--tsa-ca FILE] [--json]

It reads the ZIP file in place, applies the container rules of sxevidence-bundle(5) CONTAINER
before any content is used, then performs the checks of VERIFICATION in order, printing one line
per check (✓ or ✗, [item] check: detail) and a verdict (结论).  Nothing of the bundle is
extracted: only the small files openssl needs (keys, signed messages, signatures, tokens, TSA
roots) are written, to a private temporary directory removed at exit.

Exit status, as for sxevidence verify BUNDLE: 0 valid (every check passed and the bundle's policy
was confirmed against --policy, TSA roots given or pinned), 2 consistent but not checked against a
trust root you hold (no --policy, or TSA roots only from the bundle), 1 invalid (or the bundle lacks
its policy file, or the city signatures of the --policy file do not verify), 64 usage error, 65 malformed or
unsafe container or input (CRC-32 mismatch, bundle.json missing or malformed, malformed --policy),
66 a file given does not exist, 70 cryptographic self-test failed, 74 a file could not be read.

Where the pages are silent or differ from what sxevidence verify does, this script follows the
program, as found by experiment against it (each place is marked "sxevidence does" below):
1 to 3 trailing bytes of an extra area
ignored; bundle.json read with lossy UTF-8, 64-bit integers, the first of duplicate keys, and
lone surrogate escapes refused; artifacts matched among the item's well-formed artifact objects;
a missing artifact file fails only its check; other cosigners checked only when a line carries
one of their cosignature key IDs; a non-array timestamps or a non-string timestamped_proof
counts as absent; origins may hold U+007F to U+009F; the bundle's policy over 64 MiB is status 65.
"""

import base64
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import unicodedata
import zlib

EX_UNCONFIRMED = 2
EX_VALID, EX_INVALID, EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_SOFTWARE, EX_IOERR = 0, 1, 64, 65, 66, 70, 74
MIB = 1 << 20
MAX_WHOLE = 64 * MIB          # index, entries, proofs, policies, tokens, roots are read whole
EMDASH_SP = "\u2014 ".encode()  # e2 80 94 20

# Key types (sxevidence-ledger(5), sxevidence-consortium(5))
T_ED_NOTE = b"\x01"
T_SM2_NOTE = b"\xffsxevidence/sm2-sm3/v1"
T_ED_COSIG = b"\x04"
T_SM2_COSIG = b"\xffsxevidence/sm2-sm3-cosignature/v1"
SPKI_ED25519 = bytes.fromhex("302a300506032b6570032100")
SPKI_SM2 = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")
SM2_ID = "1234567812345678"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_SM3 = "1.2.156.10197.1.401"
ALG_OID = {"sha256": OID_SHA256, "sm3": OID_SM3}


class Fatal(Exception):
    """Stops verification without a verdict, with an exit status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Malformed(Exception):
    """A file that does not parse (its message becomes the detail of a failed check)."""


class ItemEnd(Exception):
    """Ends the current item with a failed check named after the stage."""

    def __init__(self, check, message):
        super().__init__(message)
        self.check = check
        self.message = message


# --------------------------------------------------------------------------------------------
# Private temporary directory (for openssl's inputs only)

_TMP = None


def tmpdir():
    global _TMP
    if _TMP is None:
        _TMP = tempfile.mkdtemp(prefix="verify-bundle-")
        os.chmod(_TMP, 0o700)
    return _TMP


def cleanup():
    global _TMP
    if _TMP is not None:
        shutil.rmtree(_TMP, ignore_errors=True)
        _TMP = None


_tmp_counter = [0]
_tmp_files = {}


def tmp_file(data, suffix=""):
    """Write bytes to a file of the private temporary directory, once per distinct content."""
    key = (hashlib.sha256(data).digest(), suffix)
    path = _tmp_files.get(key)
    if path is None:
        _tmp_counter[0] += 1
        path = os.path.join(tmpdir(), "f%d%s" % (_tmp_counter[0], suffix))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        _tmp_files[key] = path
    return path


# --------------------------------------------------------------------------------------------
# Small helpers

def b64strict(s):
    """base64, standard alphabet with padding, strictly (sxevidence-bundle(5), Conventions)."""
    if isinstance(s, bytes):
        try:
            s = s.decode("ascii")
        except UnicodeDecodeError:
            raise Malformed("invalid base64")
    if len(s) % 4 != 0 or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", s):
        raise Malformed("invalid base64")
    try:
        b = base64.b64decode(s, validate=True)
    except (ValueError, base64.binascii.Error):
        raise Malformed("invalid base64")
    if base64.b64encode(b).decode() != s:
        raise Malformed("invalid base64 (non-canonical)")
    return b


DEC_RE = re.compile(rb"0|[1-9][0-9]*")


def decimal(b):
    if not DEC_RE.fullmatch(b):
        raise Malformed("not a decimal number: %r" % b[:40].decode("utf-8", "replace"))
    return int(b)


def canonical(obj):
    """The canonical encoding of sxevidence-ledger(5) ENTRY (RFC 8785 for these values)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_str(v):
    return isinstance(v, str)


def rfc3339_seconds(t):
    import datetime
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".000Z"


def key_id(origin, typ, key):
    return hashlib.sha256(origin.encode("utf-8") + b"\n" + typ + key).digest()[:4]


# --------------------------------------------------------------------------------------------
# Restricted JSON (bundle.json): objects, arrays, strings, integers, true, false, null, < 32 deep

def _no_float(s):
    raise ValueError("numbers with a fraction or exponent are not allowed")


def _no_const(s):
    raise ValueError("%s is not allowed" % s)


def json_depth(v):
    depth, stack = 0, [(v, 1)]
    while stack:
        x, d = stack.pop()
        if isinstance(x, (dict, list)):
            depth = max(depth, d)
            for y in (x.values() if isinstance(x, dict) else x):
                if isinstance(y, (dict, list)):
                    stack.append((y, d + 1))
    return depth


INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def _int64(s):
    v = int(s)
    if not INT64_MIN <= v <= INT64_MAX:
        raise ValueError("integer %s out of the 64-bit range" % s)
    return v


def _first_wins(pairs):
    d = {}
    for k, v in pairs:
        if k not in d:
            d[k] = v
    return d


def _check_strings(v):
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            x.encode("utf-8")   # a lone surrogate (\ud800) raises UnicodeEncodeError, a ValueError
        elif isinstance(x, dict):
            for k, y in x.items():
                k.encode("utf-8")
                stack.append(y)
        elif isinstance(x, list):
            stack.extend(x)


def parse_json_restricted(data):
    """bundle.json as sxevidence reads it (found by experiment where the page is silent): invalid
    UTF-8 is tolerated, a lone surrogate escape is refused, integers must fit in 64 bits, the first
    of duplicate keys wins, and the top-level value counts as depth 0 (at most 31 levels inside)."""
    text = data.decode("utf-8", "replace")
    v = json.loads(text, parse_float=_no_float, parse_constant=_no_const, parse_int=_int64,
                   object_pairs_hook=_first_wins)
    if json_depth(v) > 32:
        raise ValueError("nested 32 deep or more")
    _check_strings(v)
    return v


# --------------------------------------------------------------------------------------------
# Cryptography through openssl

OPENSSL = shutil.which("openssl") or "openssl"
_verify_cache = {}


def _pem(der):
    b = base64.b64encode(der).decode()
    return ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(b[i:i + 64] for i in range(0, len(b), 64))
            + "\n-----END PUBLIC KEY-----\n").encode()


def ed25519_pem(k):
    return _pem(SPKI_ED25519 + k)


def sm2_pem(p):
    return _pem(SPKI_SM2 + p[1:])


def _run(args):
    try:
        r = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        raise Fatal(EX_SOFTWARE, "cannot run openssl: %s" % e)
    return r


def verify_sig(alg, key, msg, sig):
    """alg ed25519 (key: 32 bytes) or sm2 (key: 65-byte point); True when the signature verifies."""
    if alg == "ed25519" and (len(key) != 32 or len(sig) != 64):
        return False
    if alg == "sm2" and (len(key) != 65 or key[0] != 4 or not sig):
        return False
    ck = (alg, key, hashlib.sha256(msg).digest(), sig)
    if ck in _verify_cache:
        return _verify_cache[ck]
    pem = tmp_file(ed25519_pem(key) if alg == "ed25519" else sm2_pem(key), ".pem")
    args = [OPENSSL, "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin",
            "-in", tmp_file(msg, ".msg"), "-sigfile", tmp_file(sig, ".sig")]
    if alg == "sm2":
        args[6:6] = ["-digest", "sm3", "-pkeyopt", "distid:" + SM2_ID]
    r = _run(args)
    ok = r.returncode == 0 and b"Signature Verified Successfully" in r.stdout
    _verify_cache[ck] = ok
    return ok


def selftest():
    """Step 0: known-answer tests of SHA-256, SM3, Ed25519 and SM2 (exit status 70 on failure)."""
    try:
        assert hashlib.sha256(b"abc").hexdigest() == \
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        assert hashlib.new("sm3", b"abc").hexdigest() == \
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        assert hashlib.new("sm3", b"abcd" * 16).hexdigest() == \
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        assert zlib.crc32(b"123456789") == 0xCBF43926
    except (AssertionError, ValueError) as e:
        raise Fatal(EX_SOFTWARE, "cryptographic self-test failed: hash functions (%s)" % e)
    # RFC 8032 section 7.1, test 2 (the message 0x72; openssl pkeyutl -rawin cannot take an empty one)
    ed_k = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
    ed_s = bytes.fromhex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                         "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
    # an SM2-SM3 signature of "abc" with the identifier 1234567812345678
    sm_p = bytes.fromhex("04cbdb240f98ac20fcb99339c5183ac4d3c5102e07151d895f874e45dc952ba43a"
                         "1cbdfada69623e9ae1cb7c97aca58031f7b7c1300225f7fff42560ee9efe05df")
    sm_s = bytes.fromhex("3046022100d67bab4863cb6fda61ea0b8c9ef8d302fc44da9f8c0f798f9ae2d2bb8ebe4c26"
                         "022100aa263965d64cc1926136cc3d33510b593008b2ce5062fb3d4d20526cc81474c5")
    bad = bytearray(ed_s)
    bad[0] ^= 1
    if not (verify_sig("ed25519", ed_k, b"r", ed_s) and not verify_sig("ed25519", ed_k, b"r", bytes(bad))
            and verify_sig("sm2", sm_p, b"abc", sm_s) and not verify_sig("sm2", sm_p, b"abd", sm_s)):
        raise Fatal(EX_SOFTWARE, "cryptographic self-test failed: Ed25519 or SM2 with openssl")


# --------------------------------------------------------------------------------------------
# ZIP container (sxevidence-bundle(5), CONTAINER, Container rules)

class Entry:
    __slots__ = ("name", "crc", "size", "lho", "data", "end")


def safe_name(nb):
    if not nb or len(nb) >= 1024:
        return "empty or too long"
    if nb.startswith(b"/") or nb.endswith(b"/"):
        return "starts or ends with /"
    for c in nb:
        if c < 0x20 or c == 0x7F:
            return "control character"
    if b"\\" in nb:
        return "backslash"
    if b":" in nb:
        return "colon"
    for comp in nb.split(b"/"):
        if comp in (b"", b".", b".."):
            return "empty, . or .. component"
    return None


BIDI = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C}


def display(s):
    """A string from the bundle as printed (VERIFICATION, Display): backslash doubled, control and
    bidirectional-control characters as \\u{hex}."""
    if not isinstance(s, str):
        s = str(s)
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or 0x7F <= o <= 0x9F or o in BIDI:
            out.append("\\u{%x}" % o)
        else:
            out.append(ch)
    return "".join(out)


def fold(n):
    return unicodedata.normalize("NFC", n).lower()


def name_problem(n):
    if unicodedata.normalize("NFC", n) != n:
        return "not in Unicode NFC"
    for comp in n.split("/"):
        if comp.endswith((".", " ")):
            return "a component ends in '.' or ' '"
    return None


class Container:
    def __init__(self, path):
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise Fatal(EX_NOINPUT, "no such file: %s" % path)
        except OSError as e:
            raise Fatal(EX_IOERR, "cannot read %s: %s" % (path, e.strerror))
        st = os.fstat(self.fd)
        self.entries = {}
        self.order = []
        self.crc_ok = set()
        if not stat.S_ISREG(st.st_mode):
            self.unsafe("not a regular file")
        self.size = st.st_size
        self.parse()

    def unsafe(self, why):
        raise Fatal(EX_DATAERR, "%s is not a valid or safe bundle: %s" % (self.path, why))

    def pread(self, n, off):
        out = bytearray()
        while len(out) < n:
            try:
                b = os.pread(self.fd, n - len(out), off + len(out))
            except OSError as e:
                raise Fatal(EX_IOERR, "cannot read %s: %s" % (self.path, e.strerror))
            if not b:
                self.unsafe("truncated")
            out += b
        return bytes(out)

    def parse(self):
        # Exactly one layout (CONTAINER, Layout): entries contiguous from 0, one central directory
        # consumed exactly, optionally ZIP64 end record + locator, one end record ending the file.
        size = self.size
        if size < 22:
            self.unsafe("shorter than 22 bytes")
        eocd = size - 22
        end = self.pread(22, eocd)
        if end[:4] != b"PK\x05\x06":
            self.unsafe("the file does not end with an end of central directory record without comment "
                        "(not a ZIP, truncated, commented or trailing bytes)")
        d0, d1, n_disk, count, cd_size, cd_off, clen = struct.unpack_from("<HHHHIIH", end, 4)
        if d0 or d1 or n_disk != count:
            self.unsafe("end record: disk numbers not 0 or entry counts differ")
        cd_end = eocd
        if eocd >= 76:
            loc = self.pread(20, eocd - 20)
            if loc[:4] == b"PK\x06\x07":
                ldisk, z64, ndisks = struct.unpack_from("<IQI", loc, 4)
                if ldisk != 0 or ndisks != 1 or z64 != eocd - 76:
                    self.unsafe("ZIP64 locator invalid or not immediately after its ZIP64 record")
                rec = self.pread(56, eocd - 76)
                rsz = struct.unpack_from("<Q", rec, 4)[0]
                rd0, rd1, c1, c2, s64, o64 = struct.unpack_from("<IIQQQQ", rec, 16)
                if rec[:4] != b"PK\x06\x06" or rsz != 44 or rd0 or rd1 or c1 != c2:
                    self.unsafe("bad ZIP64 end record")
                if (count not in (0xFFFF, c2) or cd_size not in (0xFFFFFFFF, s64)
                        or cd_off not in (0xFFFFFFFF, o64)):
                    self.unsafe("ZIP64 end record disagrees with the end record")
                count, cd_size, cd_off, cd_end = c2, s64, o64, eocd - 76
        if cd_end == eocd and (count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_off == 0xFFFFFFFF):
            self.unsafe("missing ZIP64 end record and locator")
        if count > 100000:
            self.unsafe("more than 100000 entries")
        if cd_size > 64 * MIB:
            self.unsafe("central directory larger than 64 MiB")
        if cd_off > cd_end or cd_off + cd_size != cd_end:
            self.unsafe("the central directory does not end exactly where the end records begin "
                        "(bytes between them, or a second directory)")
        cd = self.pread(cd_size, cd_off)
        pos = 0
        expected = 0
        folded = set()
        for _ in range(count):
            if pos + 46 > cd_size or cd[pos:pos + 4] != b"PK\x01\x02":
                self.unsafe("bad central directory record")
            made = struct.unpack_from("<H", cd, pos + 4)[0]
            flags, method = struct.unpack_from("<HH", cd, pos + 8)
            crc, csize, usize = struct.unpack_from("<III", cd, pos + 16)
            n, x, c, disk = struct.unpack_from("<HHHH", cd, pos + 28)
            external, lho = struct.unpack_from("<II", cd, pos + 38)
            if pos + 46 + n + x + c > cd_size:
                self.unsafe("central directory record runs past the central directory")
            nb = cd[pos + 46:pos + 46 + n]
            try:
                name = nb.decode("utf-8")
            except UnicodeDecodeError:
                self.unsafe("a name is not valid UTF-8: %s" % nb.decode("utf-8", "replace"))
            shown = name            # the whole message is escaped when printed
            why = safe_name(nb) or name_problem(name)
            if why:
                self.unsafe("unsafe entry name: %s (%s)" % (shown, why))
            if made >> 8 == 3 and (external >> 16) & 0o170000 not in (0, 0o100000):
                self.unsafe("%s is not a regular file (symlink or other type in the external attributes)" % shown)
            if disk != 0:
                self.unsafe("%s: disk number not 0" % shown)
            ex = cd[pos + 46 + n:pos + 46 + n + x]
            e = 0
            while e + 4 <= len(ex):
                fid, flen = struct.unpack_from("<HH", ex, e)
                if e + 4 + flen > len(ex):
                    self.unsafe("%s: extra field runs past the extra area" % shown)
                if fid == 1:
                    body, q = ex[e + 4:e + 4 + flen], 0
                    vals = []
                    for v in (usize, csize, lho):
                        if v == 0xFFFFFFFF:
                            if q + 8 > len(body):
                                self.unsafe("%s: short ZIP64 extra field" % shown)
                            vals.append(struct.unpack_from("<Q", body, q)[0])
                            q += 8
                        else:
                            vals.append(v)
                    usize, csize, lho = vals
                e += 4 + flen
            if flags & 0x41:
                self.unsafe("%s is encrypted" % shown)
            if flags & 0x08:
                self.unsafe("%s uses a data descriptor (flag bit 3)" % shown)
            if method != 0:
                self.unsafe("%s is compressed (method %d); only stored entries are allowed" % (shown, method))
            if csize != usize:
                self.unsafe("%s: compressed size differs from size" % shown)
            if name in self.entries:
                self.unsafe("duplicate entry: %s" % shown)
            f = fold(name)
            if f in folded:
                self.unsafe("entry names differ only in case: %s" % shown)
            folded.add(f)
            if lho != expected:
                self.unsafe("%s does not start where the previous entry ends (gap, overlap or order "
                            "differing from the directory)" % shown)
            if lho + 30 + n > cd_off:
                self.unsafe("%s: local header beyond the central directory" % shown)
            lh = self.pread(30 + n, lho)
            if lh[:4] != b"PK\x03\x04":
                self.unsafe("%s: bad local header" % shown)
            lflags, lmethod = struct.unpack_from("<HH", lh, 6)
            lcrc, lcsize, lusize, ln, lx = struct.unpack_from("<IIIHH", lh, 14)
            if ln != n or lh[30:30 + n] != nb:
                self.unsafe("%s: local header name differs" % shown)
            if lflags & 0x49 or lmethod != 0 or lcrc != crc or not (
                    (lcsize == 0xFFFFFFFF and lusize == 0xFFFFFFFF) or (lcsize == csize and lusize == usize)):
                self.unsafe("%s: local header disagrees with the central directory" % shown)
            data = lho + 30 + n + lx
            if data + usize > cd_off:
                self.unsafe("%s: data beyond the central directory" % shown)
            en = Entry()
            en.name, en.crc, en.size, en.lho, en.data, en.end = name, crc, usize, lho, data, data + usize
            self.entries[name] = en
            self.order.append(name)
            expected = data + usize
            pos += 46 + n + x + c
        if pos != cd_size:
            self.unsafe("the central directory holds bytes beyond its records (count differs from the end record)")
        if expected != cd_off:
            self.unsafe("bytes before the central directory belong to no entry")
        for name in self.order:
            parts = name.split("/")[:-1]
            for k in range(1, len(parts) + 1):
                prefix = "/".join(parts[:k])
                if fold(prefix) in folded:
                    self.unsafe("%s is both a file and a directory of %s" % (prefix, name))

    def read_whole(self, name):
        """The bytes of an entry read whole (at most 64 MiB), CRC-32 checked."""
        en = self.entries[name]
        if en.size > MAX_WHOLE:
            raise Malformed("%s is larger than 64 MiB" % name)
        b = self.pread(en.size, en.data)
        if name not in self.crc_ok:
            if zlib.crc32(b) != en.crc:
                raise CrcError(name)
            self.crc_ok.add(name)
        return b


class CrcError(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


# --------------------------------------------------------------------------------------------
# Streaming hashes: SHA-256, SM3 and CRC-32 in one pass, SM3 on its own thread

CHUNK = 4 * MIB
_pool = None


def _pool_get():
    global _pool
    if _pool is None:
        _pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    return _pool


def hash_entry(cont, en, keep=False):
    """(sha256 hex, sm3 hex, crc32, bytes or None) of an entry's data, read from its offset."""
    h1, h2, crc = hashlib.sha256(), hashlib.new("sm3"), 0
    if en.size <= CHUNK:
        b = cont.pread(en.size, en.data)
        h1.update(b)
        h2.update(b)
        return h1.hexdigest(), h2.hexdigest(), zlib.crc32(b), (b if keep else None)
    pool = _pool_get()
    bufs = [bytearray(CHUNK), bytearray(CHUNK)]
    off, left, k = en.data, en.size, 0
    pending = None
    crcbox = [0]

    def sha_crc(mv):
        h1.update(mv)
        crcbox[0] = zlib.crc32(mv, crcbox[0])

    while left > 0 or pending:
        nxt = None
        if left > 0:
            buf = bufs[k]
            n = min(CHUNK, left)
            mv = memoryview(buf)[:n]
            got = 0
            while got < n:
                try:
                    r = os.preadv(cont.fd, [mv[got:]], off + got)
                except OSError as e:
                    raise Fatal(EX_IOERR, "cannot read %s: %s" % (cont.path, e.strerror))
                if r <= 0:
                    cont.unsafe("truncated")
                got += r
            off += n
            left -= n
            k ^= 1
            nxt = mv
        if pending:
            for f in pending:
                f.result()
            pending = None
        if nxt is not None:
            pending = (pool.submit(h2.update, nxt), pool.submit(sha_crc, nxt))
    crc = crcbox[0]
    return h1.hexdigest(), h2.hexdigest(), crc, None


# --------------------------------------------------------------------------------------------
# Signed notes, checkpoints, proofs (PROOFS)

class Sig:
    __slots__ = ("name", "kid", "sig", "raw")


def parse_note(b):
    """(text, [Sig]) of a C2SP signed note, as sxevidence parses it."""
    if not b.endswith(b"\n"):
        raise Malformed("malformed signed note: missing final newline")
    for c in b:
        if c < 0x20 and c != 0x0A:
            raise Malformed("malformed signed note: control character")
    p = b.rfind(b"\n\n")
    if p < 0:
        raise Malformed("malformed signed note: no empty line before the signatures")
    text, rest = b[:p + 1], b[p + 2:]
    lines = rest.split(b"\n")[:-1]
    if not 1 <= len(lines) <= 64:
        raise Malformed("malformed signed note: %d signature lines" % len(lines))
    sigs = []
    for ln in lines:
        if not ln.startswith(EMDASH_SP):
            raise Malformed("malformed signed note: bad signature line")
        parts = ln[len(EMDASH_SP):].split(b" ")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise Malformed("malformed signed note: bad signature line")
        name = parts[0].decode("utf-8", "replace")   # sxevidence tolerates invalid UTF-8 here
        if "+" in name:
            raise Malformed("malformed signed note: + in key name")
        raw = b64strict(parts[1])
        if len(raw) <= 4:
            raise Malformed("malformed signed note: signature too short")
        s = Sig()
        s.name, s.kid, s.sig, s.raw = name, raw[:4], raw[4:], ln + b"\n"
        sigs.append(s)
    return text, sigs


def parse_checkpoint(text):
    lines = text[:-1].split(b"\n")
    if len(lines) < 3:
        raise Malformed("malformed checkpoint: fewer than 3 lines")
    origin = lines[0].decode("utf-8", "replace")
    if not origin:
        raise Malformed("malformed checkpoint: empty origin")
    size = decimal(lines[1])
    root = b64strict(lines[2])
    if len(root) != 32:
        raise Malformed("malformed checkpoint: root is not 32 bytes")
    for ext in lines[3:]:
        if not ext:
            raise Malformed("malformed checkpoint: empty extension line")
    return origin, size, root


class Proof:
    __slots__ = ("extra", "index", "path", "note", "text", "sigs", "origin", "size", "root")


def parse_proof(b):
    p = b.find(b"\n\n")
    if p < 0:
        raise Malformed("malformed tlog-proof: no empty line")
    head, note = b[:p], b[p + 2:]
    lines = head.split(b"\n")
    if lines[0] != b"c2sp.org/tlog-proof@v1":
        raise Malformed("malformed tlog-proof: not c2sp.org/tlog-proof@v1")
    i = 1
    pr = Proof()
    pr.extra = None
    if len(lines) > 1 and lines[1].startswith(b"extra "):
        pr.extra = b64strict(lines[1][6:])
        i = 2
    if len(lines) <= i or not lines[i].startswith(b"index "):
        raise Malformed("malformed tlog-proof: no index line")
    pr.index = decimal(lines[i][6:])
    pr.path = []
    for ln in lines[i + 1:]:
        h = b64strict(ln)
        if len(h) != 32:
            raise Malformed("malformed tlog-proof: a hash is not 32 bytes")
        pr.path.append(h)
    pr.note = note
    pr.text, pr.sigs = parse_note(note)
    pr.origin, pr.size, pr.root = parse_checkpoint(pr.text)
    return pr


def node_hash(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


def leaf_hash(b):
    return hashlib.sha256(b"\x00" + b).digest()


def verify_inclusion(i, n, h, path, root):
    """RFC 9162 section 2.1.3.2, as written in sxevidence-bundle(5) PROOFS."""
    if i >= n:
        return False
    fn, sn, r = i, n - 1, h
    for x in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(x, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node_hash(r, x)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# --------------------------------------------------------------------------------------------
# Entries (ENTRY) and the policy (POLICY AND TRUST ROOTS)

HEX64 = re.compile(r"[0-9a-f]{64}")


def parse_entry(b):
    """(entry dict, canonical?) ; raises Malformed when it does not parse as an entry."""
    try:
        e = json.loads(b.decode("utf-8"), parse_float=_no_float, parse_constant=_no_const, parse_int=_int64)
    except (ValueError, RecursionError) as ex:
        raise Malformed("entry does not parse: %s" % ex)
    if not isinstance(e, dict):
        raise Malformed("entry is not a JSON object")
    if e.get("format") != "sxevidence-entry/1":
        raise Malformed("entry format is not sxevidence-entry/1")
    if not is_int(e.get("index")):
        raise Malformed("entry index is not an integer")
    arts = e.get("artifacts")
    if not isinstance(arts, list):
        raise Malformed("entry artifacts is not an array")
    for a in arts:
        if not (isinstance(a, dict) and is_str(a.get("name")) and is_int(a.get("size"))
                and is_str(a.get("sha256")) and is_str(a.get("sm3"))):
            raise Malformed("entry artifact malformed")
    prev = e.get("prev")
    if not (is_str(prev) and HEX64.fullmatch(prev)):
        raise Malformed("entry prev is not 32 bytes in hex")
    if "note" in e and not is_str(e["note"]):
        raise Malformed("entry note is not a string")
    for k in ("case", "id", "kind", "method", "node", "officer", "time"):
        if not is_str(e.get(k)):
            raise Malformed("entry %s is not a string" % k)
    known = {k: e[k] for k in ("case", "format", "id", "index", "kind", "method", "node",
                               "officer", "prev", "time")}
    known["artifacts"] = [{"name": a["name"], "sha256": a["sha256"], "size": a["size"], "sm3": a["sm3"]}
                          for a in arts]
    if "note" in e:
        known["note"] = e["note"]
    try:
        canon = canonical(known) == b
    except UnicodeEncodeError:
        canon = False
    return e, canon


NODE_ID = re.compile(r"[0-9]{6}")
ITEM_ID = re.compile(r"[0-9]{6}-[0-9]{6,}")


def valid_origin(o):
    if not o:
        return False
    for ch in o:
        # white space is Unicode White_Space (U+00A0, U+0085, U+3000 ... too); control characters
        # are those below U+0020 only (sxevidence accepts U+007F and U+0080 to U+009F)
        if ch == "+" or ch.isspace() or ord(ch) < 0x20:
            return False
    return True


class Member:
    __slots__ = ("node_id", "origin", "ed", "sm2", "role", "name")


class Policy:
    pass


def parse_policy(b):
    """A well-formed policy (sxevidence-consortium(5), POLICY) or Malformed."""
    text, sigs = parse_note(b)
    lines = text.split(b"\n")
    if len(lines) != 3 or lines[0] != b"sxevidence-consortium/1":
        raise Malformed("malformed policy: the text is not sxevidence-consortium/1 and one JSON line")
    try:
        j = json.loads(lines[1].decode("utf-8"), parse_float=_no_float, parse_constant=_no_const,
                       parse_int=_int64)
    except (ValueError, RecursionError) as ex:
        raise Malformed("malformed policy: %s" % ex)
    if not isinstance(j, dict):
        raise Malformed("malformed policy: not a JSON object")
    if not (is_str(j.get("city")) and isinstance(j.get("cosigners"), list)
            and all(is_str(c) for c in j["cosigners"]) and is_str(j.get("created"))
            and isinstance(j.get("members"), list) and j["members"] and is_int(j.get("version"))
            and j["version"] >= 1):
        raise Malformed("malformed policy: missing or mistyped members")
    pol = Policy()
    pol.members, pol.by_id, pol.by_origin = [], {}, {}
    canon_members = []
    for m in j["members"]:
        if not isinstance(m, dict):
            raise Malformed("malformed policy: a member is not an object")
        for k in ("ed25519", "endpoint", "name", "node_id", "origin", "role", "sm2"):
            if not is_str(m.get(k)):
                raise Malformed("malformed policy: member %s missing or not a string" % k)
        mm = Member()
        try:
            mm.ed, mm.sm2 = b64strict(m["ed25519"]), b64strict(m["sm2"])
        except Malformed:
            raise Malformed("malformed policy: a member key is not base64")
        if len(mm.ed) != 32 or len(mm.sm2) != 65 or mm.sm2[0] != 4:
            raise Malformed("malformed policy: a member key has the wrong length")
        if not NODE_ID.fullmatch(m["node_id"]) or not m["node_id"].isascii():
            raise Malformed("malformed policy: node_id %r is not six digits" % m["node_id"])
        if not valid_origin(m["origin"]):
            raise Malformed("malformed policy: invalid origin %r" % m["origin"])
        if m["role"] not in ("city", "county"):
            raise Malformed("malformed policy: role %r" % m["role"])
        mm.node_id, mm.origin, mm.role, mm.name = m["node_id"], m["origin"], m["role"], m["name"]
        if mm.node_id in pol.by_id or mm.origin in pol.by_origin:
            raise Malformed("malformed policy: two members share a node ID or an origin")
        pol.by_id[mm.node_id] = mm
        pol.by_origin[mm.origin] = mm
        pol.members.append(mm)
        canon_members.append({k: m[k] for k in ("ed25519", "endpoint", "name", "node_id", "origin",
                                                "role", "sm2")})
    known = {"city": j["city"], "cosigners": j["cosigners"], "created": j["created"],
             "members": canon_members, "version": j["version"]}
    pol_tsa = []
    if "tsa_roots" in j:
        tr = j["tsa_roots"]
        if not (isinstance(tr, list) and all(is_str(h) and re.fullmatch(r"[0-9a-f]{64}", h) for h in tr)):
            raise Malformed("malformed policy: tsa_roots is not an array of SHA-256 hex digests")
        known["tsa_roots"] = tr
        pol_tsa = tr
    try:
        if canonical(known) != lines[1]:
            raise Malformed("malformed policy: the JSON line is not in canonical form")
    except UnicodeEncodeError:
        raise Malformed("malformed policy: the JSON line is not in canonical form")
    city = pol.by_id.get(j["city"])
    if city is None or city.role != "city":
        raise Malformed("malformed policy: the city %s is not a member with role city" % j["city"])
    for c in j["cosigners"]:
        if c not in pol.by_id:
            raise Malformed("malformed policy: cosigner %s is not a member" % c)
    pol.city, pol.version, pol.cosigners = city, j["version"], j["cosigners"]
    pol.tsa_roots = set(pol_tsa)
    pol.text, pol.sigs = text, sigs
    return pol


def note_sigs(text, sigs, m):
    """Both note signatures of member m present and every matching line valid: (ok, detail)."""
    res = []
    ok = True
    for label, alg, typ, key in (("Ed25519", "ed25519", T_ED_NOTE, m.ed),
                                 ("SM2-SM3", "sm2", T_SM2_NOTE, m.sm2)):
        kid = key_id(m.origin, typ, key)
        lines = [s for s in sigs if s.name == m.origin and s.kid == kid]
        if not lines:
            ok = False
            res.append(label + " absent")
        elif all(verify_sig(alg, key, text, s.sig) for s in lines):
            res.append(label + " valid")
        else:
            ok = False
            res.append(label + " INVALID")
    return ok, ", ".join(res)


def policy_valid(pol):
    return note_sigs(pol.text, pol.sigs, pol.city)


def vkey(m):
    return "%s+%s+%s" % (m.origin, key_id(m.origin, T_ED_NOTE, m.ed).hex(),
                         base64.b64encode(T_ED_NOTE + m.ed).decode())


def cosignature(text, sigs, m, want_time=False):
    """The cosignature of m over text (COSIGNATURE): (ok, detail), and its time when asked."""
    out, ok, when = [], True, None
    for label, alg, typ, key in (("Ed25519", "ed25519", T_ED_COSIG, m.ed), ("SM2", "sm2", T_SM2_COSIG, m.sm2)):
        kid = key_id(m.origin, typ, key)
        good = False
        present = any(s.name == m.origin and s.kid == kid for s in sigs)
        for s in sigs:
            if s.name != m.origin or s.kid != kid or len(s.sig) <= 8:
                continue
            t = int.from_bytes(s.sig[:8], "big")
            if not 0 < t < 2 ** 63 - 1:
                continue
            body = s.sig[8:]
            if alg == "ed25519" and len(body) != 64:
                continue
            msg = b"cosignature/v1\ntime %d\n" % t + text
            if verify_sig(alg, key, msg, body):
                good = True
                if when is None:
                    when = t
                break
        out.append(label + (" valid" if good else " INVALID" if present else " absent"))
        ok = ok and good
    d = ", ".join(out)
    if when is not None:
        try:
            d += ", time " + rfc3339_seconds(when)
        except (OverflowError, OSError, ValueError):
            d += ", time %d" % when
    if want_time:
        return ok, d, when if ok else None
    return ok, d


# --------------------------------------------------------------------------------------------
# RFC 3161 tokens: a small DER reader for what the detail shows and the imprint algorithm

def der(b, pos, end=None):
    """(tag, content start, content end) of the TLV at pos."""
    end = len(b) if end is None else end
    if pos + 2 > end:
        raise Malformed("DER: truncated")
    tag = b[pos]
    if tag & 0x1F == 0x1F:
        raise Malformed("DER: high tag number")
    ln = b[pos + 1]
    p = pos + 2
    if ln & 0x80:
        k = ln & 0x7F
        if k == 0 or k > 4 or p + k > end:
            raise Malformed("DER: bad length")
        ln = int.from_bytes(b[p:p + k], "big")
        p += k
    if p + ln > end:
        raise Malformed("DER: truncated")
    return tag, p, p + ln


def der_children(b, s, e):
    out = []
    while s < e:
        t, cs, ce = der(b, s, e)
        out.append((t, cs, ce))
        s = ce
    return out


def oid_str(c):
    vals, v = [], 0
    for x in c:
        v = (v << 7) | (x & 0x7F)
        if not x & 0x80:
            vals.append(v)
            v = 0
    if not vals:
        return ""
    first = min(vals[0] // 40, 2)
    return ".".join(str(x) for x in [first, vals[0] - 40 * first] + vals[1:])


NAMES = {"2.5.4.6": "C", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.3": "CN", "2.5.4.7": "L",
         "2.5.4.8": "ST", "2.5.4.5": "serialNumber", "2.5.4.9": "street", "2.5.4.12": "title",
         "2.5.4.42": "GN", "2.5.4.4": "SN", "1.2.840.113549.1.9.1": "emailAddress",
         "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID"}


def name_str(b, s, e):
    parts = []
    for _, rs, re_ in der_children(b, s, e):            # RDN SET
        for _, as_, ae in der_children(b, rs, re_):       # AttributeTypeAndValue
            kids = der_children(b, as_, ae)
            if len(kids) < 2:
                continue
            oid = oid_str(b[kids[0][1]:kids[0][2]])
            t, vs, ve = kids[1]
            raw = b[vs:ve]
            val = raw.decode("utf-16-be", "replace") if t == 0x1E else raw.decode("utf-8", "replace")
            parts.append("/%s=%s" % (NAMES.get(oid, oid), val))
    return "".join(parts)


TS_TOLERANCE = 300


def parse_time(t):
    """Seconds since the epoch of an RFC 3339 UTC time, or None."""
    import datetime
    if not is_str(t):
        return None
    try:
        return datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def pem_certs(b):
    """The DER of each certificate in a PEM file."""
    out = []
    for m in re.finditer(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", b, re.S):
        try:
            out.append(base64.b64decode(b"".join(m.group(1).split())))
        except ValueError:
            pass
    return out


def _pem_cert(d):
    t = base64.b64encode(d).decode()
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(t[i:i + 64] for i in range(0, len(t), 64))
            + "\n-----END CERTIFICATE-----\n").encode()


def token_info(tok):
    """(imprint algorithm OID, genTime RFC 3339, serial hex, signer subject or '') of a TimeStampResp."""
    t, s, e = der(tok, 0)
    if t != 0x30 or e != len(tok):
        raise Malformed("not a DER TimeStampResp")
    kids = der_children(tok, s, e)
    if len(kids) < 2:
        raise Malformed("TimeStampResp without a token")
    t, s, e = kids[1]                                   # ContentInfo
    ci = der_children(tok, s, e)
    if len(ci) < 2 or ci[1][0] != 0xA0:
        raise Malformed("token is not CMS SignedData")
    _, s, e = der(tok, ci[1][1], ci[1][2])              # SignedData
    sd = der_children(tok, s, e)
    enc = der_children(tok, sd[2][1], sd[2][2])         # encapContentInfo
    if len(enc) < 2:
        raise Malformed("token without TSTInfo")
    _, s, e = der(tok, enc[1][1], enc[1][2])            # OCTET STRING
    _, s, e = der(tok, s, e)                            # TSTInfo
    tst = der_children(tok, s, e)
    imprint = der_children(tok, tst[2][1], tst[2][2])
    alg = der_children(tok, imprint[0][1], imprint[0][2])
    alg_oid = oid_str(tok[alg[0][1]:alg[0][2]])
    serial = tok[tst[3][1]:tst[3][2]].lstrip(b"\x00").hex() or "00"
    gt = tok[tst[4][1]:tst[4][2]].decode("ascii", "replace")
    m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\.\d+)?Z", gt)
    gen = ("%s-%s-%sT%s:%s:%s%sZ" % (m.group(1), m.group(2), m.group(3), m.group(4), m.group(5),
                                     m.group(6), m.group(7) or "")) if m else gt
    subject = ""
    try:
        certs = [k for k in sd if k[0] == 0xA0]
        sis = [k for k in sd if k[0] == 0x31]
        si_serial = None
        if sis:
            si = der_children(tok, sis[-1][1], sis[-1][2])[0]
            sid = der_children(tok, si[1], si[2])[1]
            if sid[0] == 0x30:
                si_serial = tok[der_children(tok, sid[1], sid[2])[1][1]:der_children(tok, sid[1], sid[2])[1][2]]
        if certs:
            for _, cs, ce in der_children(tok, certs[0][1], certs[0][2]):
                tbs = der_children(tok, *der_children(tok, cs, ce)[0][1:])
                off = 1 if tbs[0][0] == 0xA0 else 0
                ser = tok[tbs[off][1]:tbs[off][2]]
                if si_serial is None or ser == si_serial:
                    subject = name_str(tok, tbs[off + 4][1], tbs[off + 4][2])
                    break
    except (Malformed, IndexError):
        subject = ""
    return alg_oid, gen, serial, subject


def verify_token(tok, digest_hex, roots_path):
    r = _run([OPENSSL, "ts", "-verify", "-digest", digest_hex, "-in", tmp_file(tok, ".tsr"),
              "-CAfile", roots_path])
    if r.returncode == 0 and b"Verification: OK" in r.stdout:
        return True, ""
    err = r.stderr.decode("utf-8", "replace").strip().splitlines()
    err = [ln for ln in err if not ln.startswith("Using configuration")]
    reason = err[-1].split(":")[-2] if err and err[-1].count(":") >= 2 else (err[-1] if err else "")
    return False, reason


# --------------------------------------------------------------------------------------------
# The verifier (VERIFICATION)

class Verifier:
    def __init__(self, args):
        self.args = args
        self.checks = []
        self.hashed = {}        # path -> (size, sha256, sm3)
        self.whole = {}         # path -> bytes kept from hashing

    def add(self, item, check, ok, detail):
        c = {"check": check, "detail": detail, "item": item, "ok": bool(ok)}
        self.checks.append(c)
        return c

    # files read whole for the items: a missing one, an unparsable one, a CRC mismatch end the item
    def member(self, path, stage, what="file"):
        if not is_str(path) or path not in self.c.entries:
            raise ItemEnd(stage, "the bundle has no %s %s" % (what, path))
        if path in self.whole:
            return self.whole[path]
        try:
            return self.c.read_whole(path)
        except Malformed as e:
            raise ItemEnd(stage, str(e))
        except CrcError:
            raise ItemEnd(stage, "%s: CRC-32 mismatch, the ZIP is damaged" % path)

    def hashes(self, path, keep=False):
        if path in self.hashed:
            return self.hashed[path]
        en = self.c.entries[path]
        s1, s2, crc, data = hash_entry(self.c, en, keep)
        if crc != en.crc:
            raise CrcError(path)
        self.c.crc_ok.add(path)
        if data is not None:
            self.whole[path] = data
        self.hashed[path] = (en.size, s1, s2)
        return self.hashed[path]

    def run(self):
        a = self.args
        # 1. container
        self.c = Container(a.bundle)
        # 2. bundle.json
        if "bundle.json" not in self.c.entries:
            raise Fatal(EX_DATAERR, "the bundle has no bundle.json")
        en = self.c.entries["bundle.json"]
        if en.size > MAX_WHOLE:
            raise Fatal(EX_DATAERR, "bundle.json is larger than 64 MiB")
        try:
            raw = self.c.read_whole("bundle.json")
        except CrcError:
            raise Fatal(EX_DATAERR, "bundle.json: CRC-32 mismatch, the ZIP is damaged")
        try:
            idx = parse_json_restricted(raw)
        except (ValueError, RecursionError) as e:
            raise Fatal(EX_DATAERR, "malformed bundle.json: %s" % e)
        if not isinstance(idx, dict) or idx.get("format") != "sxevidence-bundle/1":
            raise Fatal(EX_DATAERR, "malformed bundle.json: format is not sxevidence-bundle/1")
        if not (isinstance(idx.get("items"), list) and isinstance(idx.get("files"), list)
                and is_str(idx.get("policy"))):
            raise Fatal(EX_DATAERR, "malformed bundle.json: items, files or policy missing")
        self.idx = idx
        items = idx["items"]
        # small files that the items read whole: keep their bytes while hashing
        need = {idx["policy"]}
        for it in items:
            if isinstance(it, dict):
                for k in ("entry", "proof", "timestamped_proof"):
                    if is_str(it.get(k)):
                        need.add(it[k])
                an = it.get("anchor")
                if isinstance(an, dict):
                    for k in ("entry", "proof"):
                        if is_str(an.get(k)):
                            need.add(an[k])
                ts = it.get("timestamps")
                if isinstance(ts, list):
                    for r in ts:
                        if isinstance(r, dict):
                            for k in ("token", "tsa_roots"):
                                if is_str(r.get(k)):
                                    need.add(r[k])
        # 3. files
        listed = set()
        file_checks = []
        for rec in idx["files"]:
            if not (isinstance(rec, dict) and is_str(rec.get("path")) and is_int(rec.get("size"))
                    and is_str(rec.get("sha256")) and is_str(rec.get("sm3"))):
                file_checks.append(self.add("bundle", "files", False,
                                            "malformed file record in bundle.json (needs string path, integer "
                                            "size, string sha256 and sm3)"))
                continue
            p = rec["path"]
            listed.add(p)
            if p not in self.c.entries:
                file_checks.append(self.add("bundle", "file " + p, False, "listed in bundle.json but absent"))
                continue
            try:
                size, s1, s2 = self.hashes(p, keep=p in need)
            except CrcError:
                raise Fatal(EX_DATAERR, "%s: CRC-32 mismatch, the ZIP is damaged" % p)
            ok = size == rec["size"] and s1 == rec["sha256"] and s2 == rec["sm3"]
            d = "size %d/%d sha256 %s sm3 %s" % (size, rec["size"],
                                                 s1 if s1 == rec["sha256"] else "%s != %s" % (s1, rec["sha256"]),
                                                 s2 if s2 == rec["sm3"] else "%s != %s" % (s2, rec["sm3"]))
            file_checks.append(self.add("bundle", "file " + p, ok, d))
        # 4. no unlisted files
        unlisted = [n for n in self.c.order if n != "bundle.json" and n not in listed]
        self.add("bundle", "no unlisted files", not unlisted,
                 "%d files, all listed" % len(self.c.order) if not unlisted
                 else "unlisted: " + ", ".join(unlisted))
        # 5. policies
        ppath = idx["policy"]
        if ppath not in self.c.entries:
            raise Fatal(EX_INVALID, "the bundle has no policy file %s" % ppath)
        if self.c.entries[ppath].size > MAX_WHOLE:
            raise Fatal(EX_DATAERR, "%s is not a valid or safe bundle: %s is too large" % (a.bundle, ppath))
        bpol, breason = None, None
        try:
            pb = self.whole.get(ppath)
            if pb is None:
                pb = self.c.read_whole(ppath)
            bpol = parse_policy(pb)
            ok, d = policy_valid(bpol)
            if not ok:
                breason = "city signatures: " + d
        except Malformed as e:
            breason = str(e)
        except CrcError:
            raise Fatal(EX_DATAERR, "%s: CRC-32 mismatch, the ZIP is damaged" % ppath)
        self.trust_confirmed = False
        self.city_key = ""
        if a.policy is not None:
            gpol = load_given_policy(a.policy, a.policy_bytes)
            if breason is not None:
                self.add("bundle", "policy signature", False, "bundle policy %s: %s" % (ppath, breason))
            same = breason is None and bpol.city.ed == gpol.city.ed and bpol.city.sm2 == gpol.city.sm2
            self.add("bundle", "trust roots", same, "city key in bundle %s vs given %s" % (
                base64.b64encode(bpol.city.ed).decode() if bpol else "(invalid policy)",
                base64.b64encode(gpol.city.ed).decode()))
            self.trust_confirmed = same
            self.pol = gpol
            self.city_key = vkey(gpol.city)
        else:
            if breason is not None:
                self.add("bundle", "policy signature", False, "bundle policy %s: %s; no trust roots" % (ppath, breason))
                self.pol = None
            else:
                self.add("bundle", "policy signature", True,
                         "consortium policy v%d signed by city %s (trust roots taken from the bundle itself)"
                         % (bpol.version, bpol.city.node_id))
                self.pol = bpol
                self.city_key = vkey(bpol.city)
        # 6. items
        if self.pol is not None:
            for it in items:
                label = it.get("id") if isinstance(it, dict) and is_str(it.get("id")) else "?"
                try:
                    self.item(it, label, 0)
                except ItemEnd as e:
                    self.add(label, e.check, False, e.message)
            # 7. items
            if not items:
                self.add("bundle", "items", False, "no items")
        ok = bool(self.checks) and all(c["ok"] for c in self.checks)
        return ok, file_checks

    def item(self, it, label, k):
        pol = self.pol
        # item ID first: NODE "-" SEQ, SEQ the item's own index + 1 padded to six digits
        iid = it.get("id") if isinstance(it, dict) else None
        if not (is_str(iid) and ITEM_ID.fullmatch(iid) and iid.isascii() and iid[7:].lstrip("0") != ""
                and len(iid[7:]) == max(6, len(iid[7:].lstrip("0")))):
            self.add(label, "item id", False, "item ID %s is not NODE-SEQ (six digits, '-', index + 1 padded "
                     "to six digits)" % display(iid if is_str(iid) else repr(iid)))
            return
        # a. item record
        if not (isinstance(it, dict) and is_str(it.get("entry")) and is_str(it.get("proof"))
                and isinstance(it.get("artifacts"), list)):
            self.add(label, "item record", False, "the item needs the strings entry and proof and the array artifacts")
            return
        # b. entry canonical bytes
        S = "entry canonical bytes"
        eb = self.member(it["entry"], S)
        try:
            e, canon = parse_entry(eb)
        except Malformed as ex:
            raise ItemEnd(S, "%s: %s" % (it["entry"], ex))
        idok = e["id"] == it.get("id")
        self.add(label, S, canon and idok, "%s: %d bytes, RFC 8785 form %s stored, id %s%s" % (
            it["entry"], len(eb), "==" if canon else "!=", e["id"],
            "" if idok else " != item id %s" % it.get("id")))
        leaf = leaf_hash(eb)
        # c. node in policy
        M = pol.by_id.get(e["node"])
        if M is None:
            self.add(label, "node in policy", False, "node %s is not a member of the policy" % e["node"])
            return
        C = pol.city
        own = M is C
        # d. artifacts listed
        earts, iarts = e["artifacts"], it["artifacts"]
        good = [x for x in iarts if isinstance(x, dict) and is_str(x.get("name")) and is_str(x.get("path"))]
        self.add(label, "artifacts listed", len(good) == len(earts),
                 "entry names %d, bundle lists %d" % (len(earts), len(good)))
        # e. artifact name
        # (the kth of the item's artifact objects that have a string name and path, as sxevidence
        # does; a missing file fails only its own check, a damaged unlisted one ends the item:
        # found by experiment)
        for k in range(min(len(earts), len(good))):
            ea, ia = earts[k], good[k]
            cname = "artifact " + ea["name"]
            p = ia["path"]
            if p not in self.c.entries:
                self.add(label, cname, False, "%s absent" % p)
                continue
            try:
                size, s1, s2 = self.hashes(p)
            except CrcError:
                raise ItemEnd(S, "%s: CRC-32 mismatch, the ZIP is damaged" % p)
            nok = ia["name"] == ea["name"]
            ok = nok and size == ea["size"] and s1 == ea["sha256"] and s2 == ea["sm3"]
            d = "size %d/%d sha256 %s sm3 %s" % (size, ea["size"],
                                                 s1 if s1 == ea["sha256"] else "%s != %s" % (s1, ea["sha256"]),
                                                 s2 if s2 == ea["sm3"] else "%s != %s" % (s2, ea["sm3"]))
            if not nok:
                d = "name %s != %s, " % (ia["name"], ea["name"]) + d
            self.add(label, cname, ok, d)
        # f. inclusion proof
        S = "inclusion proof"
        pb = self.member(it["proof"], S)
        try:
            pr = parse_proof(pb)
        except Malformed as ex:
            raise ItemEnd(S, "%s: %s" % (it["proof"], ex))
        incl = verify_inclusion(pr.index, pr.size, leaf, pr.path, pr.root)
        # entry identity: node is the member whose origin the checkpoint names, index the proof's,
        # id = node "-" index + 1 padded to six digits, and the item ID that id
        P = pol.by_origin.get(pr.origin)
        want = "%s-%06d" % (e["node"], e["index"] + 1) if is_int(e.get("index")) else None
        ident = (P is not None and P.node_id == e["node"] and pr.index == e["index"]
                 and e["id"] == want and it.get("id") == e["id"])
        self.add(label, "entry identity", ident, "node %s, checkpoint origin %s (member %s), index %s/%d, id %s, "
                 "expected %s, item id %s" % (e["node"], pr.origin, P.node_id if P else "none", e["index"],
                                              pr.index, e["id"], want, it.get("id")))
        ok = pr.index == e["index"] and pr.origin == M.origin and incl
        self.add(label, S, ok, "leaf %s index %d/%d in %s size %d root %s%s%s" % (
            leaf.hex(), pr.index, e["index"], pr.origin, pr.size, pr.root.hex(),
            "" if pr.origin == M.origin else " (origin of node %s is %s)" % (M.node_id, M.origin),
            "" if incl else ": the audit path does not lead to the root"))
        # g. checkpoint signatures
        ok, d = note_sigs(pr.text, pr.sigs, M)
        self.add(label, "checkpoint signatures", ok, d)
        # h. cosignatures
        if own:
            self.add(label, "cosignature", True, "not needed: the entry is in the city's own log, which is the anchor")
        else:
            ok, d = cosignature(pr.text, pr.sigs, C)
            self.add(label, "cosignature " + C.origin, ok, d)
            # another cosigner is checked when the note has a line with its origin and one of its two
            # cosignature key IDs (what sxevidence does; the page says: any line with its origin, and
            # that M's own note signatures would count, which they do not)
            for cid in pol.cosigners:
                W = pol.by_id.get(cid)
                if W is None or W is C:
                    continue
                kids = (key_id(W.origin, T_ED_COSIG, W.ed), key_id(W.origin, T_SM2_COSIG, W.sm2))
                if not any(s.name == W.origin and s.kid in kids for s in pr.sigs):
                    continue
                ok, d = cosignature(pr.text, pr.sigs, W)
                self.add(label, "cosignature " + W.origin, ok, d)
        # i. anchor
        if own:
            self.add(label, "anchor entry", True, "not needed: the city's own checkpoint, signed by the city")
        else:
            an = it.get("anchor")
            if not (isinstance(an, dict) and is_str(an.get("entry")) and is_str(an.get("proof"))):
                self.add(label, "anchor entry", False, "the item has no anchor")
            else:
                self.anchor(label, an, pr, C)
        # j. time-stamped checkpoint
        stamped = pr.text + b"\n" + b"".join(s.raw for s in pr.sigs if s.name == M.origin)
        if is_str(it.get("timestamped_proof")):
            S = "time-stamped checkpoint"
            tp = it["timestamped_proof"]
            tb = self.member(tp, S)
            try:
                tpr = parse_proof(tb)
            except Malformed as ex:
                raise ItemEnd(S, "%s: %s" % (tp, ex))
            sok, sd = note_sigs(tpr.text, tpr.sigs, M)
            incl = verify_inclusion(tpr.index, tpr.size, leaf, tpr.path, tpr.root)
            ok = tpr.index == e["index"] and tpr.origin == M.origin and sok and incl
            if ok:
                d = "inclusion in %s size %d, Ed25519 and SM2 signatures" % (tpr.origin, tpr.size)
            else:
                d = "%s size %d index %d/%d: inclusion %s, signatures: %s" % (
                    tpr.origin, tpr.size, tpr.index, e["index"], "valid" if incl else "INVALID", sd)
            self.add(label, S, ok, d)
            stamped = tpr.note
        # k. time stamps
        ts = it.get("timestamps")
        if not isinstance(ts, list) or not ts:
            self.add(label, "time stamps", True, "none in this item: its time rests on the city's ledger" if own
                     else "none in this item: its time rests on the ledger and the city's cosignature")
            return
        self.window = (parse_time(e.get("time")), None if own else cosignature(pr.text, pr.sigs, C, True)[2])
        for rec in ts:
            self.token(label, rec, stamped)

    def anchor(self, label, an, pr, C):
        S = "anchor entry"
        ab = self.member(an["entry"], S)
        try:
            ae, canon = parse_entry(ab)
        except Malformed as ex:
            raise ItemEnd(S, "%s: %s" % (an["entry"], ex))
        if "note" not in ae:
            raise ItemEnd(S, "%s: the anchor entry has no note" % ae["id"])
        try:
            atext, asigs = parse_note(ae["note"].encode("utf-8"))
        except (Malformed, UnicodeEncodeError) as ex:
            raise ItemEnd(S, "%s: the note is not a signed note: %s" % (ae["id"], ex))
        holds = atext == pr.text
        ok = canon and ae["kind"] == "anchor" and ae["node"] == C.node_id and holds
        self.add(label, S, ok, "%s kind %s, node %s, holds checkpoint %s size %d: %s%s" % (
            ae["id"], ae["kind"], ae["node"], pr.origin, pr.size, "true" if holds else "false",
            "" if canon else " (not in canonical form)"))
        S = "anchor inclusion proof"
        apb = self.member(an["proof"], S)
        try:
            apr = parse_proof(apb)
        except Malformed as ex:
            raise ItemEnd(S, "%s: %s" % (an["proof"], ex))
        aleaf = leaf_hash(ab)
        incl = verify_inclusion(apr.index, apr.size, aleaf, apr.path, apr.root)
        extra_ok = apr.extra is None or apr.extra == ab
        ok = apr.index == ae["index"] and apr.origin == C.origin and extra_ok and incl
        self.add(label, S, ok, "leaf %s index %d in %s size %d root %s%s%s%s" % (
            aleaf.hex(), apr.index, apr.origin, apr.size, apr.root.hex(),
            "" if apr.index == ae["index"] else " (anchor entry index %d)" % ae["index"],
            "" if extra_ok else ", extra data differs from the anchor entry",
            "" if incl else ": the audit path does not lead to the root"))
        ok, d = note_sigs(apr.text, apr.sigs, C)
        self.add(label, "city checkpoint signatures", ok, d)
        ok, d = cosignature(atext, asigs, C)
        self.add(label, "anchored cosignature " + C.origin, ok, "in the anchor entry's note" if ok else d)

    def token(self, label, rec, stamped):
        a = self.args
        if not (isinstance(rec, dict) and is_str(rec.get("token")) and rec.get("algorithm") in ("sha256", "sm3")):
            self.add(label, "time stamp", False, "a record without string token or with an algorithm other than sha256 and sm3")
            return
        alg = rec["algorithm"]
        name = "time stamp " + alg
        pinned = None
        if a.tsa_ca is not None:
            roots, how = a.tsa_ca, "(TSA roots given)"
        else:
            rp = rec.get("tsa_roots")
            if not is_str(rp):
                self.add(label, name, False, "no TSA roots: neither --tsa-ca nor tsa_roots")
                return
            if rp not in self.c.entries:
                raise ItemEnd("time stamp", "the bundle lacks %s" % rp)
            rb = self.member(rp, "time stamp", "TSA roots file")
            # roots pinned by the policy given separately (tsa_roots: SHA-256 of the DER)
            pins = self.pol.tsa_roots if a.policy is not None else set()
            pinned = [c for c in pem_certs(rb) if hashlib.sha256(c).hexdigest() in pins]
            if pinned:
                roots, how = tmp_file(b"".join(_pem_cert(c) for c in pinned), ".pem"), "(TSA roots pinned by the policy)"
            else:
                roots, how = tmp_file(rb, ".pem"), "(TSA roots from the bundle, not confirmed)"
        tp = rec["token"]
        if tp not in self.c.entries:
            self.add(label, name, False, "the bundle has no token %s" % tp)
            return
        try:
            tok = self.c.read_whole(tp) if tp not in self.whole else self.whole[tp]
        except (Malformed, CrcError) as ex:
            self.add(label, name, False, "%s: %s" % (tp, "CRC-32 mismatch, the ZIP is damaged"
                                                     if isinstance(ex, CrcError) else ex))
            return
        digest = hashlib.new(alg, stamped).hexdigest()
        try:
            oid, gen, serial, subject = token_info(tok)
        except (Malformed, IndexError, UnicodeDecodeError) as ex:
            self.add(label, name, False, "%s: not a time-stamp response: %s" % (tp, ex))
            return
        if oid != ALG_OID[alg]:
            self.add(label, name, False, "%s: messageImprint algorithm %s, not %s" % (tp, oid, alg))
            return
        ok, why = verify_token(tok, digest, roots)
        if ok:
            lo, hi = getattr(self, "window", (None, None))
            g = parse_time(gen)
            if g is None or (lo is not None and g < lo - TS_TOLERANCE) or (hi is not None and g > hi + TS_TOLERANCE):
                self.add(label, name, False, "genTime %s outside the entry time %s - %d s .. the city cosignature "
                         "time %s + %d s" % (gen, lo, TS_TOLERANCE, hi, TS_TOLERANCE, ))
                return
            c = self.add(label, name, True, "genTime %s, serial %s%s %s" % (
                gen, serial, (", TSA " + subject) if subject else "", how))
            if a.tsa_ca is None and not pinned:
                c["unconfirmed"] = True
        else:
            self.add(label, name, False, "%s: does not verify over the stamped checkpoint (%s %s): %s %s" % (
                tp, alg, digest, why, how))


# --------------------------------------------------------------------------------------------
# Command line

class Args:
    bundle = policy = tsa_ca = None
    json = False


USAGE = "usage: verify-bundle.py BUNDLE [--policy FILE] [--tsa-ca FILE] [--json]"


def parse_args(argv):
    a = Args()
    i = 0
    while i < len(argv):
        x = argv[i]
        if x in ("-h", "--help"):
            print(__doc__.strip())
            sys.exit(0)
        if x == "--json":
            a.json = True
        elif x in ("--policy", "--tsa-ca") or x.startswith(("--policy=", "--tsa-ca=")):
            if "=" in x:
                opt, val = x.split("=", 1)
            else:
                if i + 1 >= len(argv):
                    raise Fatal(EX_USAGE, "missing value for %s\n%s" % (x, USAGE))
                opt, val = x, argv[i + 1]
                i += 1
            setattr(a, {"--policy": "policy", "--tsa-ca": "tsa_ca"}[opt], val)
        elif x == "--":
            for y in argv[i + 1:]:
                if a.bundle is not None:
                    raise Fatal(EX_USAGE, "unexpected argument %r\n%s" % (y, USAGE))
                a.bundle = y
            break
        elif x.startswith("-") and x != "-":
            raise Fatal(EX_USAGE, "unknown option %r\n%s" % (x, USAGE))
        else:
            if a.bundle is not None:
                raise Fatal(EX_USAGE, "unexpected argument %r\n%s" % (x, USAGE))
            a.bundle = x
        i += 1
    if a.bundle is None:
        raise Fatal(EX_USAGE, ("--policy and --tsa-ca apply to a bundle: " if a.policy or a.tsa_ca else "")
                    + "no bundle given\n" + USAGE)
    return a


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read(MAX_WHOLE + 1)
    except FileNotFoundError:
        raise Fatal(EX_NOINPUT, "open: %s: no such file" % path)
    except OSError as e:
        raise Fatal(EX_IOERR, "read: %s: %s" % (path, e.strerror))


def load_given_policy(path, b):
    if len(b) > MAX_WHOLE:
        raise Fatal(EX_DATAERR, "%s: policy larger than 64 MiB" % path)
    try:
        pol = parse_policy(b)
    except Malformed as e:
        raise Fatal(EX_DATAERR, "%s: %s" % (path, e))
    ok, d = policy_valid(pol)
    if not ok:
        raise Fatal(EX_INVALID, "%s: the city signatures of the policy do not verify: %s" % (path, d))
    return pol


def main(argv):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    a = None
    try:
        a = parse_args(argv)
        # 66 for any file given that does not exist: the bundle first, then --policy and --tsa-ca
        for p in (a.bundle, a.policy, a.tsa_ca):
            if p is not None and not os.path.lexists(p):
                raise Fatal(EX_NOINPUT, ("no such file: %s" if p == a.bundle else "open: %s: no such file") % p)
        # both files are read first (74 when they cannot be read), the policy parsed at step 5
        a.policy_bytes = read_file(a.policy) if a.policy is not None else None
        if a.tsa_ca is not None:
            read_file(a.tsa_ca)
        # 0. self-test
        selftest()
        v = Verifier(a)
        ok, file_checks = v.run()
    except Fatal as f:
        if a is not None and a.json:
            code = {EX_USAGE: "usage", EX_NOINPUT: "notFound", EX_DATAERR: "dataError", EX_IOERR: "ioError",
                    EX_INVALID: "verification", EX_SOFTWARE: "internalError"}.get(f.status, "dataError")
            sys.stderr.write(json.dumps({"error": {"code": code, "exit": f.status, "message": display(f.message)}},
                                        ensure_ascii=False, sort_keys=True) + "\n")
        else:
            # usage messages carry the command line; every other message is escaped (Display)
            sys.stderr.write("error: %s\n" % (f.message if f.status == EX_USAGE else display(f.message)))
        return f.status
    finally:
        if _pool is not None:
            _pool.shutdown(wait=True)
    nitems = len(v.idx["items"])
    unconfirmed = [c for c in v.checks if c.get("unconfirmed")]
    if a.policy is None:
        reasons = ["no --policy given: the trust roots come from the bundle itself"]
    elif not v.trust_confirmed:
        reasons = ["the bundle's policy is not the one given with --policy"]
    else:
        reasons = []
    reasons += ["[%s] %s: %s" % (c["item"], c["check"], c["detail"]) for c in unconfirmed]
    if not ok:
        verdict, status = "invalid", EX_INVALID
    elif reasons:
        verdict, status = "unconfirmed", EX_UNCONFIRMED
    else:
        verdict, status = "valid", EX_VALID
    fp = {}
    if v.pol is not None:
        fp = {"ed25519": hashlib.sha256(v.pol.city.ed).hexdigest(), "sm2": hashlib.sha256(v.pol.city.sm2).hexdigest()}
    informative = [n for n in v.c.order if n == "README.txt" or n.startswith("certificate.")]
    if a.json:
        out = {"checks": v.checks, "city_key": v.city_key, "items": nitems, "ok": ok,
               "trust_roots_confirmed": v.trust_confirmed, "verdict": verdict, "fingerprints": fp,
               "informative": informative}
        sys.stdout.write(json.dumps(out, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        lines = []
        path_checks = [c for c in file_checks if c["check"] != "files"]
        summarize = bool(path_checks) and all(c["ok"] for c in path_checks)
        summarized = False
        for c in v.checks:
            is_path = c["item"] == "bundle" and c["check"].startswith("file ")
            if is_path and summarize:
                if not summarized:
                    lines.append("✓ [bundle] files: %d files match bundle.json in size, SHA-256 and SM3"
                                 % len(path_checks))
                    summarized = True
                continue
            if is_path and c["ok"]:
                continue
            mark = "?" if c.get("unconfirmed") else "✓" if c["ok"] else "✗"
            lines.append("%s [%s] %s: %s" % (mark, display(c["item"]), display(c["check"]), display(c["detail"])))
        if informative:
            lines.append("not covered by any signature (informative) / 未受任何签名保护（仅供参考）:")
            for n in informative:
                lines.append("  %s" % display(n))
        if fp:
            lines.append("city key ed25519 sha256:%s" % fp["ed25519"])
            lines.append("city key sm2 sha256:%s" % fp["sm2"])
        if a.policy is None:
            lines.append("note: no --policy given, so the trust roots come from the bundle itself; check that "
                         "city key %s is the one you were given" % display(v.city_key))
            lines.append("提示：未给出 --policy，信任根取自证据包本身；请核对市级公钥 %s 是否与另行取得的一致" % display(v.city_key))
        if verdict == "valid":
            lines.append("verdict: VALID (%d items)" % nitems)
            lines.append("结论：有效（%d 项）" % nitems)
        elif verdict == "unconfirmed":
            for r in reasons:
                lines.append("reason: %s" % display(r))
            lines.append("verdict: CONSISTENT, NOT CHECKED AGAINST A TRUST ROOT YOU HOLD")
            lines.append("结论：一致，但未对照您持有的信任根核验")
        else:
            lines.append("verdict: INVALID")
            lines.append("结论：无效")
        sys.stdout.write("\n".join(lines) + "\n")
    return status


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
    except KeyboardInterrupt:
        status = 130
    finally:
        cleanup()
    sys.stdout.flush()
    sys.exit(status)
