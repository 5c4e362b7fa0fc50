#ifndef CSXOPENSSL_SHIM_H
#define CSXOPENSSL_SHIM_H
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/bio.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>
#include <openssl/bn.h>
#include <openssl/ssl.h>

// BIO_get_mem_data is a macro over BIO_ctrl; Swift cannot import it.
static inline long sx_bio_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

// OPENSSL_free is a macro that passes __FILE__/__LINE__.
static inline void sx_openssl_free(void *p) { OPENSSL_free(p); }

// EVP_PKEY_Q_keygen is variadic; SM2 keys are EC keys on the "SM2" named group.
static inline EVP_PKEY *sx_keygen_sm2(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "SM2"); }

// Same reason: EVP_PKEY_Q_keygen is variadic.
static inline EVP_PKEY *sx_keygen_ed25519(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); }

// Variadic too; ECDSA P-256 keys for the TSA and the node CA (OpenSSL 3.0 cannot time-stamp with SM2 or Ed25519).
static inline EVP_PKEY *sx_keygen_p256(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); }

// SM2 signatures need the distinguishing ID (GB/T 32918.2 Z_A) set on a key context that the
// digest context then owns; the order of these calls matters, so it lives in one place.
static inline int sx_sm2_digest_init(EVP_MD_CTX *mctx, EVP_PKEY *pkey, const EVP_MD *sm3,
                                     const unsigned char *id, size_t idlen, int forSigning) {
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(pkey, NULL);
    if (pctx == NULL) return 0;
    if (EVP_PKEY_CTX_set1_id(pctx, id, idlen) <= 0) { EVP_PKEY_CTX_free(pctx); return 0; }
    EVP_MD_CTX_set_pkey_ctx(mctx, pctx);
    int rc = forSigning ? EVP_DigestSignInit(mctx, NULL, sm3, NULL, pkey)
                        : EVP_DigestVerifyInit(mctx, NULL, sm3, NULL, pkey);
    return rc;
}

// EVP_MD_CTX_set_pkey_ctx does not take ownership; free the key context after use.
static inline void sx_md_ctx_free_with_pkey_ctx(EVP_MD_CTX *mctx) {
    EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(mctx);
    EVP_MD_CTX_free(mctx);
    if (pctx != NULL) EVP_PKEY_CTX_free(pctx);
}

// SM2 public point (0x04 || X || Y) from a key, via the provider parameter (no deprecated EC_KEY API).
static inline size_t sx_pkey_get_encoded_public(EVP_PKEY *pkey, unsigned char *out, size_t outlen) {
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey, "encoded-pub-key", out, outlen, &len) != 1) return 0;
    return len;
}
// sk_X509_new_null and sk_X509_push are type-safe macros over OPENSSL_sk_*.
static inline STACK_OF(X509) *sx_sk_x509_new(void) { return sk_X509_new_null(); }
// Same macro family.
static inline int sx_sk_x509_push(STACK_OF(X509) *s, X509 *x) { return sk_X509_push(s, x); }
// Same macro family; frees the certificates too.
static inline void sx_sk_x509_pop_free(STACK_OF(X509) *s) { sk_X509_pop_free(s, X509_free); }
// Same macro family.
static inline int sx_sk_x509_num(const STACK_OF(X509) *s) { return sk_X509_num(s); }
// Same macro family.
static inline X509 *sx_sk_x509_value(const STACK_OF(X509) *s, int i) { return sk_X509_value(s, i); }

// Same macro family; returns the replaced certificate.
static inline X509 *sx_sk_x509_set(STACK_OF(X509) *s, int i, X509 *x) { return sk_X509_set(s, i, x); }

// OPENSSL_malloc is a macro; TS_VERIFY_CTX_set_imprint takes ownership of memory from it.
static inline unsigned char *sx_openssl_memdup(const unsigned char *p, size_t n) {
    unsigned char *q = OPENSSL_malloc(n ? n : 1);
    if (q && n) memcpy(q, p, n);
    return q;
}

// X509V3_set_ctx_nodb is a macro.
static inline void sx_x509v3_ctx_nodb(X509V3_CTX *ctx) { X509V3_set_ctx_nodb(ctx); }

// The serial-number callback type of TS_RESP_CTX, named so Swift can pass a @convention(c) function.
typedef ASN1_INTEGER *(*sx_ts_serial_cb)(TS_RESP_CTX *, void *);
static inline void sx_ts_set_serial_cb(TS_RESP_CTX *ctx, sx_ts_serial_cb cb, void *data) {
    TS_RESP_CTX_set_serial_cb(ctx, cb, data);
}

// The subject of the certificate that signed a time-stamp token (PKCS7_get0_signers returns a
// stack whose certificates the token owns: free the stack only).
static inline int sx_ts_signer_subject(TS_RESP *resp, char *buf, int len) {
    PKCS7 *p7 = TS_RESP_get_token(resp);
    if (!p7) return 0;
    STACK_OF(X509) *s = PKCS7_get0_signers(p7, NULL, 0);
    if (!s) { ERR_clear_error(); return 0; }
    int ok = 0;
    if (sk_X509_num(s) > 0) { X509_NAME_oneline(X509_get_subject_name(sk_X509_value(s, 0)), buf, len); ok = 1; }
    sk_X509_free(s);
    return ok;
}

// The browser-facing TLS of the recording proxy. SSL_CTX_set_min_proto_version and
// SSL_CTX_add1_chain_cert are macros over SSL_CTX_ctrl.
static inline int sx_ssl_ctx_min_tls12(SSL_CTX *c) { return (int)SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION); }
// Same macro family; the context takes its own reference to the certificate.
static inline int sx_ssl_ctx_add1_chain_cert(SSL_CTX *c, X509 *x) { return (int)SSL_CTX_add1_chain_cert(c, x); }
// ALPN: only http/1.1 is offered back (the proxy speaks HTTP/1.1 to the browser); a client that
// offers no http/1.1 gets no ALPN answer and the handshake goes on.
static int sx_alpn_http11_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
                             const unsigned char *in, unsigned int inlen, void *arg) {
    (void)s; (void)arg;
    static const unsigned char mine[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, mine, sizeof mine, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}
static inline void sx_ssl_ctx_alpn_http11(SSL_CTX *c) { SSL_CTX_set_alpn_select_cb(c, sx_alpn_http11_cb, NULL); }
#endif
