#ifndef ZONEWARDEN_COPENSSL_SHIM_H
#define ZONEWARDEN_COPENSSL_SHIM_H
// The system's OpenSSL (apt: libssl-dev): message digests for the audit
// report's file hashes, through the EVP interface.
#include <openssl/evp.h>
#endif
