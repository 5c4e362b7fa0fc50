#!/usr/bin/env python3
"""Verify an RFC 3161 TimeStampResp with the rfc3161-client package (an implementation independent
of OpenSSL's TS code). usage: rfc3161_check.py RESPONSE.tsr DATA_FILE ROOT_CA.pem -> prints OK or the error."""
import sys
from cryptography import x509
from rfc3161_client import VerifierBuilder, decode_timestamp_response

resp = decode_timestamp_response(open(sys.argv[1], "rb").read())
data = open(sys.argv[2], "rb").read()
roots = x509.load_pem_x509_certificates(open(sys.argv[3], "rb").read())
builder = VerifierBuilder()
for r in roots:
    builder = builder.add_root_certificate(r)
try:
    builder.build().verify_message(resp, data)
except Exception as e:  # noqa: BLE001 - report any refusal
    print("FAIL: %s" % e)
    sys.exit(1)
print("OK serial=%d gen_time=%s" % (resp.tst_info.serial_number, resp.tst_info.gen_time))
