#ifndef ZONEWARDEN_CCOMPRESSION_SHIM_H
#define ZONEWARDEN_CCOMPRESSION_SHIM_H
// The system's decompressors for compressed capture files (apt: zlib1g-dev,
// libzstd-dev, liblzma-dev, liblz4-dev): gzip, zstd, xz and lz4 frames.
#include <zlib.h>
#include <zstd.h>
#include <lzma.h>
#include <lz4frame.h>

// zlib's init is a macro: windowBits 15 + 32 reads gzip (and zlib) headers.
static inline int zw_inflate_init_gzip(z_stream *stream) { return inflateInit2(stream, 15 + 32); }
static inline unsigned zw_lz4f_version(void) { return LZ4F_VERSION; }
// liblzma's flag macros are expressions Swift does not import.
static inline uint32_t zw_lzma_concatenated(void) { return LZMA_CONCATENATED; }
#endif
