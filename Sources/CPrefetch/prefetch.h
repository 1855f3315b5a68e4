#ifndef IPLOG_CPREFETCH_H
#define IPLOG_CPREFETCH_H
// The compiler's prefetch hint, which Swift does not expose: a rebuild asks for
// the next events' bytes while it folds this one (their records lie scattered in
// the memory map, each a cache miss of its own).
static inline void iplog_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

// Every cache line of the `count` bytes at `address`, at most `limit` bytes of
// them: a case's history reads records scattered over the log, a few lines each.
static inline void iplog_prefetch_bytes(const void *address, unsigned long count, unsigned long limit) {
    const char *line = (const char *)((unsigned long)address & ~63UL);
    const char *end = (const char *)address + (count < limit ? count : limit);
    for (; line < end; line += 64) __builtin_prefetch(line, 0, 3);
}
#endif
