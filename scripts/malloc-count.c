// A counting allocator for scripts/bench: LD_PRELOAD it to count the calls to
// malloc, calloc, realloc and posix_memalign/aligned_alloc a process makes; the
// total is written to the file named by MALLOC_COUNT_FILE at exit.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_ulong calls;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);

// dlsym may call calloc before real_calloc is known: serve it from a static pool.
static char bootstrap[4096];
static size_t bootstrap_used;

static void resolve(void) {
    if (!real_malloc) {
        real_malloc = dlsym(RTLD_NEXT, "malloc");
        real_calloc = dlsym(RTLD_NEXT, "calloc");
        real_realloc = dlsym(RTLD_NEXT, "realloc");
        real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
        real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    }
}

void *malloc(size_t n) { resolve(); atomic_fetch_add(&calls, 1); return real_malloc(n); }

void *calloc(size_t n, size_t m) {
    if (!real_calloc) {
        void *p = bootstrap + bootstrap_used;
        bootstrap_used += (n * m + 15) & ~(size_t)15;
        return p;
    }
    atomic_fetch_add(&calls, 1);
    return real_calloc(n, m);
}

void *realloc(void *p, size_t n) { resolve(); atomic_fetch_add(&calls, 1); return real_realloc(p, n); }

int posix_memalign(void **p, size_t a, size_t n) { resolve(); atomic_fetch_add(&calls, 1); return real_posix_memalign(p, a, n); }

void *aligned_alloc(size_t a, size_t n) { resolve(); atomic_fetch_add(&calls, 1); return real_aligned_alloc(a, n); }

void free(void *p) {
    static void (*real_free)(void *);
    if ((char *)p >= bootstrap && (char *)p < bootstrap + sizeof bootstrap) return;
    if (!real_free) real_free = dlsym(RTLD_NEXT, "free");
    real_free(p);
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("MALLOC_COUNT_FILE");
    if (!path) return;
    FILE *f = fopen(path, "w");
    if (!f) return;
    fprintf(f, "%lu\n", (unsigned long)atomic_load(&calls));
    fclose(f);
}
