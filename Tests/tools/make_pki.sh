#!/bin/sh
# Test certificates made with the openssl command (independent of sxevidence's own certificate code).
#
# usage: make_pki.sh DIR server CA_SUBJECT LEAF_SUBJECT
#        make_pki.sh DIR tsa CA_SUBJECT LEAF_SUBJECT [DIGESTS]
# Always: DIR/ca.key, DIR/ca.pem (a P-256 root valid two days; subjects may be UTF-8).
# server: srv.key, srv.pem for IP 127.0.0.1 and localhost, and chain.pem (leaf then root).
# tsa:    tsa.key, tsa.pem with the critical timeStamping usage, and tsa.cnf and serial for
#         `openssl ts -reply -config DIR/tsa.cnf` (policy 1.2.3.4.1; DIGESTS, default sha256).
set -e
dir=$1 kind=$2 ca_subject=$3 leaf_subject=$4 digests=${5:-sha256}
mkdir -p "$dir"
cd "$dir"
key() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -utf8 "$@" 2>/dev/null; }
key -x509 -keyout ca.key -out ca.pem -days 2 -subj "$ca_subject"
case $kind in
server)
  key -keyout srv.key -out srv.csr -subj "$leaf_subject"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > ext
  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext 2>/dev/null
  cat srv.pem ca.pem > chain.pem ;;
tsa)
  key -keyout tsa.key -out tsa.csr -subj "$leaf_subject"
  printf 'extendedKeyUsage=critical,timeStamping\nbasicConstraints=CA:FALSE\n' > ext
  openssl x509 -req -in tsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out tsa.pem -days 2 -extfile ext 2>/dev/null
  printf '[tsa]\ndefault_tsa=t\n[t]\nserial=%s/serial\ndefault_policy=1.2.3.4.1\ndigests=%s\nsigner_digest=sha256\naccuracy=secs:1\ness_cert_id_chain=no\ness_cert_id_alg=sha256\n' "$PWD" "$digests" > tsa.cnf
  echo 01 > serial ;;
*) echo "make_pki.sh: unknown kind $kind" >&2; exit 64 ;;
esac
