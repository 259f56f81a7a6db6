#ifndef ZONEWARDEN_COPENSSL_SHIM_H
#define ZONEWARDEN_COPENSSL_SHIM_H
// The system's OpenSSL (apt: libssl-dev): message digests for the audit
// report's file hashes (EVP), and TLS to syslog collectors (RFC 5425).
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

// Macros Swift cannot call.
static inline int zw_ssl_set_sni(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }
static inline int zw_ssl_ctx_min_tls12(SSL_CTX *ctx) { return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); }
static inline long zw_ssl_ctx_no_renegotiation(SSL_CTX *ctx) { return (long)SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION); }
#endif
