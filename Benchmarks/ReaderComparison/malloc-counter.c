// Counts heap allocations in the whole process (Swift runtime and Foundation included) when preloaded
// (LD_PRELOAD): every malloc, calloc, realloc, posix_memalign and aligned_alloc is passed on to the next
// definition and counted. reader-comparison reads the count through dlsym("malloc_counter_allocations").
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>

typedef void *(*malloc_f)(size_t);
typedef void *(*calloc_f)(size_t, size_t);
typedef void *(*realloc_f)(void *, size_t);
typedef int (*posix_memalign_f)(void **, size_t, size_t);
typedef void *(*aligned_alloc_f)(size_t, size_t);

static _Atomic unsigned long allocations;

unsigned long malloc_counter_allocations(void) { return atomic_load(&allocations); }

void *malloc(size_t size) {
    static malloc_f next;
    if (!next) next = (malloc_f)dlsym(RTLD_NEXT, "malloc");
    atomic_fetch_add(&allocations, 1);
    return next(size);
}

void *calloc(size_t count, size_t size) {
    // dlsym itself may calloc before the real calloc is known: a zeroed static buffer serves that call.
    static char bootstrap[4096];
    static int resolving;
    static calloc_f next;
    if (!next) {
        if (resolving) return bootstrap;
        resolving = 1;
        next = (calloc_f)dlsym(RTLD_NEXT, "calloc");
        resolving = 0;
    }
    atomic_fetch_add(&allocations, 1);
    return next(count, size);
}

void *realloc(void *pointer, size_t size) {
    static realloc_f next;
    if (!next) next = (realloc_f)dlsym(RTLD_NEXT, "realloc");
    atomic_fetch_add(&allocations, 1);
    return next(pointer, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    static posix_memalign_f next;
    if (!next) next = (posix_memalign_f)dlsym(RTLD_NEXT, "posix_memalign");
    atomic_fetch_add(&allocations, 1);
    return next(out, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    static aligned_alloc_f next;
    if (!next) next = (aligned_alloc_f)dlsym(RTLD_NEXT, "aligned_alloc");
    atomic_fetch_add(&allocations, 1);
    return next(alignment, size);
}
