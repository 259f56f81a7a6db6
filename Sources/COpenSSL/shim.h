#ifndef ZONEWARDEN_COPENSSL_SHIM_H
#define ZONEWARDEN_COPENSSL_SHIM_H
// The system's OpenSSL (apt: libssl-dev): message digests for the audit
// report's file hashes (EVP) and Community IDs (SHA-1), and TLS to syslog
// collectors (RFC 5425).
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <openssl/sha.h>

// SHA-1 for Community ID flow hashes (the specification's hash; it protects
// nothing). The low-level calls, not SHA1() or EVP: in OpenSSL 3 those fetch
// the algorithm on every call (about 600 ns against 60 ns for one block on a
// CPU with the SHA extensions). Deprecated in OpenSSL 3.0, not removed.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static inline void zw_sha1(const void *data, size_t length, unsigned char digest[20]) {
    SHA_CTX context;
    SHA1_Init(&context);
    SHA1_Update(&context, data, length);
    SHA1_Final(digest, &context);
}
#pragma GCC diagnostic pop

// Macros Swift cannot call.
static inline int zw_ssl_set_sni(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }
static inline int zw_ssl_ctx_min_tls12(SSL_CTX *ctx) { return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); }
static inline long zw_ssl_ctx_no_renegotiation(SSL_CTX *ctx) { return (long)SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION); }
#endif
