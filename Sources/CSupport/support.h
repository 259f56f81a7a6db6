#ifndef ZONEWARDEN_CSUPPORT_H
#define ZONEWARDEN_CSUPPORT_H
// Three C facilities Swift cannot reach directly. Header only: the compiler
// inlines them into the Swift callers.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>

/// Asks for the cache line at `address`, to be written soon (the flow table's lookahead).
static inline void zw_prefetch_for_write(const void *address) { __builtin_prefetch(address, 1, 3); }

/// Asks for the cache line at `address`, to be read soon (a packet another core decoded).
static inline void zw_prefetch_for_read(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Names the calling thread for `top -H` and /proc/PID/task/TID/comm (at most 15 bytes are kept).
static inline void zw_name_this_thread(const char *name) {
    char shortened[16];
    int i = 0;
    for (; i < 15 && name[i]; i++) shortened[i] = name[i];
    shortened[i] = 0;
    pthread_setname_np(pthread_self(), shortened);
}
#endif
