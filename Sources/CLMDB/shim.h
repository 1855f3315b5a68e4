#ifndef IPLOG_CLMDB_SHIM_H
#define IPLOG_CLMDB_SHIM_H
#include <lmdb.h>
#endif
