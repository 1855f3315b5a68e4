#ifndef IPLOG_CPREFETCH_H
#define IPLOG_CPREFETCH_H
// The compiler's prefetch hint, which Swift does not expose: a rebuild asks for
// the next events' bytes while it folds this one (their records lie scattered in
// the memory map, each a cache miss of its own).
static inline void iplog_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}
#endif
